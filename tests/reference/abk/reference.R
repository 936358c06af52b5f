#!/usr/bin/env Rscript
# reference.R -- reference figures for tests/integration/lee.rs on scores.csv.
#
# Usage (from the repository root): Rscript tests/reference/abk/reference.R
#
# 1. trialsim's estimator (fractional trimming, Proposition 3 standard errors):
#    runs tests/reference/lee.R (independent base R) on each subject.
# 2. The published figures: Lee bounds by the rule of the replication code that
#    produced them (mindis/leebounds R/leebounds.R: the trimmed arm keeps every
#    score at or beyond the type-7 sample quantile, so ties at the cut are all
#    kept), written out here from that rule.
d <- read.csv("tests/reference/abk/scores.csv")
for (s in c("math", "reading", "writing")) {
  tmp <- tempfile(fileext = ".csv")
  write.csv(data.frame(id = d$id,
                       arm = ifelse(d$arm == "voucher", "treatment", "control"),
                       outcome = ifelse(is.na(d[[s]]), "", sprintf("%.17g", d[[s]]))),
            tmp, row.names = FALSE, quote = FALSE)
  cat("====", s, "\n")
  system2("Rscript", c("tests/reference/lee.R", tmp))
  y_t <- d[[s]][d$arm == "voucher" & !is.na(d[[s]])]
  y_c <- d[[s]][d$arm == "control" & !is.na(d[[s]])]
  q_t <- length(y_t) / sum(d$arm == "voucher")
  q_c <- length(y_c) / sum(d$arm == "control")
  stopifnot(q_c > q_t)                       # the control arm is trimmed
  keep <- q_t / q_c
  lo_cut <- quantile(y_c, 1 - keep)          # trim the bottom: keep y >= cut
  hi_cut <- quantile(y_c, keep)              # trim the top: keep y <= cut
  cat(sprintf("  ties_kept_lower  %.15g\n", mean(y_t) - mean(y_c[y_c >= lo_cut])))
  cat(sprintf("  ties_kept_upper  %.15g\n", mean(y_t) - mean(y_c[y_c <= hi_cut])))
  cat(sprintf("  ties_kept_kept   %d %d of %d\n", sum(y_c >= lo_cut), sum(y_c <= hi_cut), length(y_c)))
}
