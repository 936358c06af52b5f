#!/usr/bin/env Rscript
# make_fixture.R -- builds scores.csv, the PACES voucher lottery test-score sample
# (Angrist, Bettinger & Kremer 2006) as V. Semenova's replication code prepares it.
#
# Usage: Rscript make_fixture.R ABK_prepared_data.csv OUT_DIR
#   ABK_prepared_data.csv is ABBKK_2002/data/ABK_prepared_data.csv of the GitHub
#   repository mindis/leebounds (commit dc4110db3033741fdfd47dabf4da95ef9bda8f07),
#   e.g. git --git-dir=<mirror> show dc4110d:ABBKK_2002/data/ABK_prepared_data.csv
#
# As in ABBKK_2002/STEP2_Estimate_Bounds/estimate_bounds.R: keep AGE2 <= 23 and a
# recorded sex (3,610 pupils); treatment = VOUCH0 (won the voucher lottery);
# observed = TEST_TAK (took the ICFES exam); outcomes MATH, READING, WRITING,
# written with 17 significant digits, empty for those who did not take the test.
args <- commandArgs(TRUE)
src <- if (length(args) >= 1) args[1] else "ABK_prepared_data.csv"
out <- if (length(args) >= 2) args[2] else "."
d <- read.csv(src)
d <- d[d$AGE2 <= 23 & d$SEX_IS_NA == 0, ]
stopifnot(nrow(d) == 3610)
score <- function(s) ifelse(d$TEST_TAK == 1, sprintf("%.17g", d[[s]]), "")
df <- data.frame(id = d$X,
                 arm = ifelse(d$VOUCH0 == 1, "voucher", "control"),
                 math = score("MATH"), reading = score("READING"),
                 writing = score("WRITING"))
for (s in c("MATH", "READING", "WRITING")) {
  taken <- d$TEST_TAK == 1
  stopifnot(all(as.numeric(df[[tolower(s)]][taken]) == d[[s]][taken]))  # exact round trip
}
write.csv(df, file.path(out, "scores.csv"), row.names = FALSE, quote = FALSE)
cat("wrote", nrow(df), "rows;", sum(d$TEST_TAK == 1), "took the test\n")
