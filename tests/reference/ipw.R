# Reference values for src/stats/ipw.rs and `missing ipw on ...` (tests/integration/ipw.rs):
# inverse-probability weighted (Hájek) differences with the M-estimation sandwich standard error,
# on the NSW data with some outcomes made missing by a stated deterministic rule.
#
# Run: Rscript tests/reference/ipw.R   (from the repository's root; R with numDeriv)
#
# 1. examples/nsw/missing.csv is examples/nsw/data.csv with re78 and employed78 blanked when
#      id %% 7 == 0,                                   or
#      age < 21 and id %% 3 == 0,                      or
#      arm == "control" and nodegree == 1 and id %% 4 == 1
#    (loss that depends on age, and on degree in the control arm only).
# 2. In each arm, glm(observed ~ age + educ + nodegree + re75, family = binomial) (nodegree a
#    factor with levels 0, 1; epsilon 1e-14 so that the fit is at machine precision).
# 3. The Hájek mean mu = sum(R y / p) / sum(R / p) over the arm.
# 4. The sandwich of the stacked estimating equations psi = ((R - p) X, R (y - mu) / p):
#    A = -sum d psi / d theta (analytic, and checked against numDeriv::jacobian), B = sum psi psi',
#    V = A^-1 B A^-T; var(mu) is its last diagonal element, var(difference) the sum over arms.
# 5. z = difference / se, two-sided p = 2 pnorm(-|z|), 95 % interval difference -/+ qnorm(0.975) se.
suppressMessages(library(numDeriv))
d <- read.csv("examples/nsw/data.csv")
lost <- d$id %% 7 == 0 | (d$age < 21 & d$id %% 3 == 0) |
  (d$arm == "control" & d$nodegree == 1 & d$id %% 4 == 1)
m <- d
m$re78[lost] <- NA
m$employed78[lost] <- NA
write.csv(m, "examples/nsw/missing.csv", row.names = FALSE, na = "", quote = FALSE)

arm_fit <- function(a, outcome) {
  s <- m[m$arm == a, ]
  s$nodegree <- factor(s$nodegree, levels = c(0, 1))
  R <- as.numeric(!is.na(s[[outcome]]))
  y <- ifelse(is.na(s[[outcome]]), 0, s[[outcome]])
  fit <- glm(R ~ age + educ + nodegree + re75, family = binomial, data = s,
             control = glm.control(epsilon = 1e-14, maxit = 100))
  X <- model.matrix(fit)
  beta <- coef(fit)
  p <- as.numeric(plogis(X %*% beta))
  mu <- sum(R * y / p) / sum(R / p)
  psi <- function(theta) {
    b <- theta[seq_len(ncol(X))]
    u <- theta[ncol(X) + 1]
    q <- as.numeric(plogis(X %*% b))
    cbind((R - q) * X, R * (y - u) / q)
  }
  theta <- c(beta, mu)
  P <- psi(theta)
  B <- crossprod(P)
  k <- ncol(X)
  A <- matrix(0, k + 1, k + 1)
  A[1:k, 1:k] <- crossprod(X * (p * (1 - p)), X)
  A[k + 1, 1:k] <- colSums(R * (y - mu) * (1 - p) / p * X)
  A[k + 1, k + 1] <- sum(R / p)
  An <- -jacobian(function(t) colSums(psi(t)), theta)
  stopifnot(max(abs(An - A) / pmax(abs(A), 1)) < 1e-6)
  V <- solve(A) %*% B %*% t(solve(A))
  list(mu = mu, var = V[k + 1, k + 1], n = nrow(s), observed = sum(R), max_w = max(1 / p[R == 1]))
}
for (outcome in c("re78", "employed78")) {
  t <- arm_fit("treatment", outcome)
  c <- arm_fit("control", outcome)
  diff <- t$mu - c$mu
  se <- sqrt(t$var + c$var)
  z <- diff / se
  cat(sprintf("%s: diff %.17g se %.17g z %.17g p %.17g lo %.17g hi %.17g\n", outcome, diff, se, z,
              2 * pnorm(-abs(z)), diff - qnorm(0.975) * se, diff + qnorm(0.975) * se))
  cat(sprintf("  treatment: n %d observed %d mean %.17g se %.17g max_w %.17g\n", t$n, t$observed,
              t$mu, sqrt(t$var), t$max_w))
  cat(sprintf("  control:   n %d observed %d mean %.17g se %.17g max_w %.17g\n", c$n, c$observed,
              c$mu, sqrt(c$var), c$max_w))
}
