# Reference values for tests/integration/balance.rs: baseline balance of the NSW data
# (examples/nsw/data.csv) as the spec examples/nsw/nsw.trial states it (`educ bins [0, 9, 12,
# 16, 99)`), computed with base R (stats::chisq.test, t.test, lm).
#
# Run: Rscript tests/reference/balance.R   (R 4.x; printed with 17 significant digits)
d <- read.csv("examples/nsw/data.csv")
d$treat <- as.numeric(d$arm == "treatment")
p <- function(...) cat(paste(sapply(list(...), function(x)
  if (is.numeric(x)) sprintf("%.17g", x) else x), collapse = " "), "\n")

# Pearson chi-square without continuity correction, arm x level.
for (v in c("ethnicity", "married", "nodegree")) {
  t <- chisq.test(table(d$arm, d[[v]]), correct = FALSE)
  p("chi2", v, t$statistic, t$parameter, t$p.value)
}
# educ in half-open bins [0,9), [9,12), [12,16), [16,99).
eb <- cut(d$educ, c(0, 9, 12, 16, 99), right = FALSE)
t <- suppressWarnings(chisq.test(table(d$arm, eb), correct = FALSE))
p("chi2", "educ_bins", t$statistic, t$parameter, t$p.value)

# Welch two-sample t (treatment minus control), two-sided.
for (v in c("age", "educ", "re74", "re75")) {
  t <- t.test(d[[v]][d$treat == 1], d[[v]][d$treat == 0])
  p("welch", v, t$statistic, t$parameter, t$p.value)
}

# Omnibus: F test of lm(treat ~ all covariates) against the intercept alone.
m <- lm(treat ~ age + educ + factor(ethnicity) + factor(married) + factor(nodegree) + re74 + re75, d)
f <- summary(m)$fstatistic
p("omnibus", f[1], f[2], f[3], pf(f[1], f[2], f[3], lower.tail = FALSE))

# Omnibus without re74 (declared by the spec but not mapped to a column).
m <- lm(treat ~ age + educ + factor(ethnicity) + factor(married) + factor(nodegree) + re75, d)
f <- summary(m)$fstatistic
p("omnibus_without_re74", f[1], f[2], f[3], pf(f[1], f[2], f[3], lower.tail = FALSE))
