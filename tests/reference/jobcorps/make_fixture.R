#!/usr/bin/env Rscript
# make_fixture.R -- builds jobcorps-week208.csv from the Job Corps extract that
# Vira Semenova shipped in early versions of her R package "leebounds"
# (GitHub fork mindis/leebounds, commit 04cc7f7e, files data/JobCorps_*.rda).
#
# Usage: Rscript make_fixture.R DIR_WITH_RDA_FILES OUT_DIR
#   DIR must hold JobCorps_baseline.rda, JobCorps_employment.rda,
#   JobCorps_wages.rda, e.g. extracted with
#     git --git-dir=<mirror> show 04cc7f7:data/JobCorps_wages.rda > JobCorps_wages.rda
#
# Definitions (Lee 2009): outcome = log hourly wage in week 208 =
#   log(EARNH208 / HWH208); observed iff EARNH208 > 0 and HWH208 > 0.
# In the .rda, wages are 0 when not observed (NaN/-Inf recoded to 0) and the
# employment file is HWH > 0.  59 people have HWH208 > 0 but wage exactly 0
# (i.e. EARNH208 = 0, log undefined); they are treated as NOT observed, as in
# Lee's Stata code (log(0) is missing) and Semenova's (selection = EARNH > 0).
# Week 90 is NOT written: in these .rda files every week's wage was computed
# with HWH208 as the denominator (stale variable in data-raw/JobCorps_wages.R),
# so only week 208 is a correct log hourly wage.
args <- commandArgs(TRUE)
src <- if (length(args) >= 1) args[1] else "."
out <- if (length(args) >= 2) args[2] else "."
ld <- function(f) { e <- new.env(); n <- load(file.path(src, f), e); get(n[1], e) }
b <- ld("JobCorps_baseline.rda")
e <- ld("JobCorps_employment.rda")
w <- ld("JobCorps_wages.rda")
stopifnot(identical(b$MPRID, e$MPRID), identical(b$MPRID, w$MPRID), nrow(b) == 9145)
wk <- 208
y <- w[[paste0("week_", wk)]]
emp <- e[[paste0("week_", wk)]]
stopifnot(all(is.finite(y)), all(y[emp == 0] == 0))
obs <- emp == 1 & y != 0
outcome <- ifelse(obs, sprintf("%.17g", y), "")
stopifnot(all(as.numeric(outcome[obs]) == y[obs]))      # exact round trip
df <- data.frame(id = b$MPRID,
                 arm = ifelse(b$TREATMNT.y == 1, "treatment", "control"),
                 outcome = outcome)
df <- df[order(df$id), ]
write.csv(df, file.path(out, sprintf("jobcorps-week%d.csv", wk)),
          row.names = FALSE, quote = FALSE)
cat("wrote", nrow(df), "rows;", sum(obs), "observed\n")
