# Reference figures of tests/integration/complier.rs: estimatr iv_robust (HC2, the default) on
# data.csv, written by `trialsim simulate tests/reference/complier/complier.trial --seed 3
# --model-columns --export data.csv`. Run from the repository root: Rscript tests/reference/complier/iv.R
# Prints per fit: estimate, se, p, ci low, ci high, df; then first stages: coefficient, F.
suppressMessages(library(estimatr))
d <- read.csv("tests/reference/complier/data.csv")
d$z <- as.numeric(d$arm == "coaching")
d$background <- factor(d$background, levels = c("dutch", "other"))
show <- function(f) {
  s <- summary(f)$coefficients
  r <- s["received", ]
  cat(sprintf("%.15g ", c(r["Estimate"], r["Std. Error"], r["Pr(>|t|)"], r["CI Lower"], r["CI Upper"], r["DF"])), "\n")
}
show(iv_robust(work_12m ~ received | z, data = d))
show(iv_robust(score ~ received | z, data = d))
show(iv_robust(score ~ received + age + background | z + age + background, data = d))
fs <- lm_robust(received ~ z + age + background, data = d)
cat(sprintf("%.15g ", c(coef(fs)["z"], (coef(fs)["z"] / fs$std.error["z"])^2)), "\n")
fs <- lm_robust(received ~ z, data = d)
cat(sprintf("%.15g ", c(coef(fs)["z"], (coef(fs)["z"] / fs$std.error["z"])^2)), "\n")
f <- iv_robust(score ~ received | z, data = d, diagnostics = TRUE)
print(f$diagnostic_first_stage_fstatistic)
# The clustered design (clustered.csv, written by `trialsim simulate
# tests/reference/complier/clustered.trial --seed 4 --model-columns --export clustered.csv`):
# CR2 in both stages, Bell-McCaffrey degrees of freedom.
d <- read.csv("tests/reference/complier/clustered.csv")
d$z <- as.numeric(d$arm == "sessions")
show(iv_robust(work_12m ~ received + age | z + age, data = d, clusters = cluster, se_type = "CR2"))
fs <- lm_robust(received ~ z + age, data = d, clusters = cluster, se_type = "CR2")
cat(sprintf("%.15g ", c(coef(fs)["z"], (coef(fs)["z"] / fs$std.error["z"])^2)), "\n")
