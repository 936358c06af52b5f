# Reference values for the comparison figures of tests/integration/adjusted.rs (issue 14, item 7)
# on the NSW data (examples/nsw/data.csv), base R 4.x only.
#
# Run: Rscript tests/reference/comparisons.R
#
# - Yates-corrected p: prop.test(correct = TRUE), two-sided.
# - Odds ratio with Woolf's interval: ad / bc, exp(log OR -/+ 1.959964 sqrt(1/a + 1/b + 1/c + 1/d)),
#   written out by hand (no package for it is installed); 0.5 is added to every cell only when a
#   cell is zero (the odds ratio or its standard error is otherwise undefined).
# - Risk ratio with the Katz log interval, se^2 = 1/a - 1/(a+b) + 1/c - 1/(c+d); 0.5 added only
#   when an arm has no events (a = 0 or c = 0).
# - Student's t: t.test(var.equal = TRUE).
# - Interaction F test: anova(lm(re78 ~ treat * g)), the treat:g row.
d <- read.csv("examples/nsw/data.csv")
d$treat <- as.numeric(d$arm == "treatment")
p <- function(label, x) cat(sprintf("%s %.17g\n", label, x))
z <- qnorm(0.975)
tab <- function(s) {
  a <- sum(s$employed78[s$treat == 1]); n1 <- sum(s$treat == 1)
  c <- sum(s$employed78[s$treat == 0]); n0 <- sum(s$treat == 0)
  c(a, n1 - a, c, n0 - c)
}
woolf <- function(label, cells) {
  if (any(cells == 0)) cells <- cells + 0.5
  or <- cells[1] * cells[4] / (cells[2] * cells[3])
  se <- sqrt(sum(1 / cells))
  p(paste(label, "or"), or); p(paste(label, "or_lo"), exp(log(or) - z * se)); p(paste(label, "or_hi"), exp(log(or) + z * se))
}
katz <- function(label, cells) {
  if (cells[1] == 0 || cells[3] == 0) cells <- cells + 0.5
  rr <- (cells[1] / (cells[1] + cells[2])) / (cells[3] / (cells[3] + cells[4]))
  se <- sqrt(1 / cells[1] - 1 / (cells[1] + cells[2]) + 1 / cells[3] - 1 / (cells[3] + cells[4]))
  p(paste(label, "rr"), rr); p(paste(label, "rr_lo"), exp(log(rr) - z * se)); p(paste(label, "rr_hi"), exp(log(rr) + z * se))
}
yates <- function(label, cells) {
  p(paste(label, "yates_p"), prop.test(c(cells[1], cells[3]), c(cells[1] + cells[2], cells[3] + cells[4]), correct = TRUE)$p.value)
}
all <- tab(d)
woolf("all", all); katz("all", all); yates("all", all)
hisp <- tab(d[d$ethnicity == "hispanic", ])
woolf("hispanic", hisp); katz("hispanic", hisp); suppressWarnings(yates("hispanic", hisp))
st <- t.test(d$re78[d$treat == 1], d$re78[d$treat == 0], var.equal = TRUE)
p("student t", st$statistic); p("student p", st$p.value); p("student df", st$parameter)
p("student lo", st$conf.int[1]); p("student hi", st$conf.int[2])
d$ethnicity <- factor(d$ethnicity, levels = c("black", "hispanic", "other"))
a <- anova(lm(re78 ~ treat * ethnicity, data = d))
p("F ethnicity", a["treat:ethnicity", "F value"]); p("F ethnicity p", a["treat:ethnicity", "Pr(>F)"])
p("F ethnicity df2", a["Residuals", "Df"])
a <- anova(lm(re78 ~ treat * factor(nodegree), data = d))
p("F nodegree", a["treat:factor(nodegree)", "F value"]); p("F nodegree p", a["treat:factor(nodegree)", "Pr(>F)"])
