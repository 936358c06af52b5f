# Reference values for src/stats/regression.rs and the adjusted analyses (tests/integration/adjusted.rs):
# covariate-adjusted ITT effects with HC2 standard errors on the NSW data (examples/nsw/data.csv,
# 445 men, 185 treated), made with estimatr 1.0.0 under R.
#
# Run: Rscript tests/reference/regression.R
#
# lm_lin: Lin (2013), treatment interacted with the covariates centred at their sample means, HC2.
# lm_robust: ANCOVA (treatment + covariates, no interactions), HC2; without covariates it is the
#   difference in means with the HC2 (= Welch-type unpooled) standard error and n - 2 df.
# Categorical covariates enter as dummies of every level but the first (R's treatment contrasts;
# the level order is the spec's: ethnicity black, hispanic, other).
suppressMessages(library(estimatr))
d <- read.csv("examples/nsw/data.csv")
d$treat <- as.numeric(d$arm == "treatment")
d$ethnicity <- factor(d$ethnicity, levels = c("black", "hispanic", "other"))
d$nodegree <- factor(d$nodegree, levels = c(0, 1))
show <- function(label, fit) {
  s <- summary(fit)$coefficients
  r <- s["treat", ]
  cat(sprintf("%s: estimate %.17g se %.17g t %.17g p %.17g lo %.17g hi %.17g df %.17g\n", label,
              r[["Estimate"]], r[["Std. Error"]], r[["t value"]], r[["Pr(>|t|)"]],
              r[["CI Lower"]], r[["CI Upper"]], r[["DF"]]))
}
show("lin re78 ~ age+educ+re75", lm_lin(re78 ~ treat, covariates = ~ age + educ + re75, data = d))
show("ancova re78 ~ age+educ+re75", lm_robust(re78 ~ treat + age + educ + re75, data = d))
show("lin employed78 ~ age+educ+re75", lm_lin(employed78 ~ treat, covariates = ~ age + educ + re75, data = d))
show("ancova employed78 ~ age+educ+re75", lm_robust(employed78 ~ treat + age + educ + re75, data = d))
show("lin re78 ~ age+educ+re74+re75+ethnicity+nodegree",
     lm_lin(re78 ~ treat, covariates = ~ age + educ + re74 + re75 + ethnicity + nodegree, data = d))
show("ancova re78 ~ age+educ+re74+re75+ethnicity+nodegree",
     lm_robust(re78 ~ treat + age + educ + re74 + re75 + ethnicity + nodegree, data = d))
show("unadjusted re78 (HC2)", lm_robust(re78 ~ treat, data = d))
show("ancova employed78 ~ age+educ+re74+re75+ethnicity+nodegree",
     lm_robust(employed78 ~ treat + age + educ + re74 + re75 + ethnicity + nodegree, data = d))
show("unadjusted employed78 (HC2)", lm_robust(employed78 ~ treat, data = d))
for (g in c(0, 1)) {
  show(sprintf("lin re78 ~ age+educ+re75 within nodegree=%d", g),
       lm_lin(re78 ~ treat, covariates = ~ age + educ + re75, data = d[d$nodegree == g, ]))
}

# CR2 (Bell-McCaffrey adjustment, Satterthwaite degrees of freedom: the estimatr default with
# `clusters =`) on tests/reference/clustered.csv, one table simulated from tests/reference/clustered.trial
# (`trialsim simulate tests/reference/clustered.trial --export tests/reference/clustered.csv --seed 14`):
# 10 groups of 12, 5 per arm.
cl <- read.csv("tests/reference/clustered.csv")
cl$treat <- as.numeric(cl$arm == "sessions")
cl$gender <- factor(cl$gender, levels = c("female", "male"))
show("cr2 lin score ~ age+gender", lm_lin(score ~ treat, covariates = ~ age + gender, data = cl, clusters = group))
show("cr2 lin employed ~ age+gender", lm_lin(employed ~ treat, covariates = ~ age + gender, data = cl, clusters = group))
show("cr2 ancova score ~ age", lm_robust(score ~ treat + age, data = cl, clusters = group))
show("cr2 score", lm_robust(score ~ treat, data = cl, clusters = group))

# The same table with participant 14 (group 1, a sessions group) written as control: a cluster
# in both arms. The cluster-level test is then undefined, CR2 uses the groups as they are
# (tests/integration/analyze_cli.rs, a_cluster_in_two_arms_leaves_the_cluster_level_test_undefined).
mixed <- cl
mixed$arm[mixed$id == 14] <- "control"
mixed$treat <- as.numeric(mixed$arm == "sessions")
show("cr2 score, group 1 in both arms", lm_robust(score ~ treat, data = mixed, clusters = group))
