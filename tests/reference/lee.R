#!/usr/bin/env Rscript
# lee.R -- independent reference implementation of Lee (2009) trimming bounds.
#
# Lee, D. S. (2009). "Training, Wages, and Sample Selection: Estimating Sharp
# Bounds on Treatment Effects." Review of Economic Studies 76(3), 1071-1102.
#
# Written from the paper's definitions (Section 3, Proposition 3) only; no
# package implementation of Lee bounds is used or sourced. Base R only.
#
# Usage:  Rscript lee.R            (hand examples + Job Corps fixture if present)
#         Rscript lee.R file.csv   (a fixture CSV: id,arm,outcome[,weight])
#
# ---------------------------------------------------------------------------
# ESTIMATOR
#   D in {0,1} treatment, S in {0,1} observed, Y observed iff S = 1.
#   q_t = share observed among treated, q_c = among controls (weighted shares
#   if weights are given).  The arm with the larger share ("big" arm B) is
#   trimmed by p = (q_B - q_A)/q_B, A = the other ("small") arm.  Ties q_t = q_c
#   trim the treatment arm (p = 0).
#   Trimming is FRACTIONAL: sort the observed Y of arm B; each observation
#   carries mass 1 (or its weight); remove exactly p * M_B of mass (M_B = total
#   observed mass of B) from the top (or bottom); the observation straddling the
#   cut loses part of its mass.  The kept mass is computed as
#   K = M_B * q_A / q_B  (unweighted: K = m_A * n_B / n_A, exact in floating
#   point whenever it is an integer), removed mass R = M_B - K.
#     treatment trimmed: LB = mean_t(top p removed)    - mean_c
#                        UB = mean_t(bottom p removed) - mean_c
#     control trimmed:   LB = mean_t - mean_c(bottom p removed)
#                        UB = mean_t - mean_c(top p removed)
#   xi (the trimming quantile / cut value) for a given bound = the boundary
#   value of the KEPT part: the largest Y with strictly positive kept mass when
#   the top is removed, the smallest such Y when the bottom is removed (this is
#   what Lee's own Stata code uses: r(max)/r(min) of the kept observations).
#
# ---------------------------------------------------------------------------
# ASYMPTOTIC VARIANCE -- Lee (2009), Proposition 3.
#   NOTE: the paper's text could not be retrieved in the environment where
#   this file was written; the statement below is reconstructed from memory
#   of the paper and checked term by term against Lee's own replication
#   program (Stata "trimbound", found as a public copy; see README.md), which
#   computes exactly these three components plus the control term.
#   Case q_t >= q_c (treatment arm trimmed), p = (E[S|D=1]-E[S|D=0])/E[S|D=1]:
#
#     sqrt(n) (LBhat - LB) -> N(0, V^LB + V^C),  sqrt(n) (UBhat - UB) -> N(0, V^UB + V^C)
#
#     V^LB = Var[Y | D=1, S=1, Y <= y_{1-p}] / (E[S|D=1] Pr[D=1] (1-p))
#          + (y_{1-p} - mu^LB)^2 * p / (E[S|D=1] Pr[D=1] (1-p))
#          + ((y_{1-p} - mu^LB) / (1-p))^2 * V_p
#     V^UB = same with Var[Y | D=1, S=1, Y >= y_p], y_p and mu^UB
#     V_p  = (1-p)^2 * [ (1-E[S|D=0]) / (E[S|D=0] Pr[D=0])
#                      + (1-E[S|D=1]) / (E[S|D=1] Pr[D=1]) ]
#     V^C  = Var[Y | D=0, S=1] / (E[S|D=0] Pr[D=0])
#   where y_q is the q-quantile of Y | D=1,S=1 and mu^LB = E[Y|D=1,S=1,Y<=y_{1-p}],
#   mu^UB = E[Y|D=1,S=1,Y>=y_p].  (Control trimmed: swap the roles of the arms.)
#   The three terms are: sampling error of the trimmed mean with known cut,
#   error from estimating the quantile, error from estimating p (delta method:
#   d mu / d p = (mu - y)/(1-p)).  The paper states population moments; it does
#   not prescribe a variance divisor, and Proposition 3 has no sampling weights.
#
#   Finite-sample form (divide by n; n Pr[D=1] E[S|D=1] = n_t q_t = m_t,
#   n Pr[D=0] E[S|D=0] = m_c, n Pr[D=d] = n_d), B = trimmed arm, A = other arm:
#     Var(LB) = [s2_trim + p (xi - mu_trim)^2] / ((1-p) m_B)
#             + (mu_trim - xi)^2 [ (1-q_c)/(q_c n_c) + (1-q_t)/(q_t n_t) ]
#             + s2_A / m_A
#   which is exactly the user's formula: the ((y-mu)/(1-p))^2 (1-p)^2 factors
#   cancel, leaving (mu-xi)^2 [...].  Two variance conventions are reported:
#     "pop": s2 = population variance (divide by kept mass / by m_A)  [user's]
#     "n-1": s2 = pop * k/(k-1), k = (1-p) m_B for the kept part, m_A for arm A
#            (Lee's Stata program uses Stata's r(Var), an n-1 variance, with
#            analytic weights, and divides the first term by the number of kept
#            observations, which equals (1-p) m_B up to his whole-observation
#            trimming).
#   With weights: means, variances, shares and trimming use the weights;
#   the counts m, n in the formula stay unweighted (as in Lee's program).
#
# IMBENS-MANSKI (2004) 95% interval:  [L - c se_L, U + c se_U],
#   c solves Phi(c + (U-L)/max(se_L, se_U)) - Phi(-c) = 0.95.
# ---------------------------------------------------------------------------

fmt <- function(x) sprintf("%.15g", x)

# Fractional trimming of one arm's observed values.
# y: values, w: masses, remove: mass to remove, side: "top" or "bottom".
trim_stats <- function(y, w, remove, side) {
  o <- order(y, method = "radix")          # stable sort
  y <- y[o]; w <- w[o]
  kept <- w
  idx <- if (side == "top") rev(seq_along(y)) else seq_along(y)
  r <- remove
  for (i in idx) {
    if (r <= 0) break
    take <- min(kept[i], r)
    kept[i] <- kept[i] - take
    r <- r - take
  }
  K <- sum(kept)
  mu <- sum(kept * y) / K
  s2 <- sum(kept * (y - mu)^2) / K         # population variance of kept part
  pos <- which(kept > 0)
  xi <- if (side == "top") y[max(pos)] else y[min(pos)]
  list(mean = mu, var_pop = s2, xi = xi, kept_mass = K, n_kept_obs = length(pos))
}

im_crit <- function(L, U, seL, seU, level = 0.95) {
  s <- max(seL, seU)
  delta <- (U - L) / s
  f <- function(c) pnorm(c + delta) - pnorm(-c) - level
  uniroot(f, c(0, 10), tol = 1e-15, maxiter = 1000)$root
}

lee_bounds <- function(d, s, y, w = NULL) {
  if (is.null(w)) w <- rep(1, length(d))
  stopifnot(all(d %in% c(0, 1)), all(s %in% c(0, 1)), all(w > 0))
  n_t <- sum(d == 1); n_c <- sum(d == 0)
  m_t <- sum(d == 1 & s == 1); m_c <- sum(d == 0 & s == 1)
  W_t <- sum(w[d == 1]); W_c <- sum(w[d == 0])
  M_t <- sum(w[d == 1 & s == 1]); M_c <- sum(w[d == 0 & s == 1])
  unweighted <- all(w == 1)
  q_t <- M_t / W_t; q_c <- M_c / W_c
  trim_treat <- q_t >= q_c
  B <- if (trim_treat) 1 else 0; A <- 1 - B
  q_B <- if (trim_treat) q_t else q_c; q_A <- if (trim_treat) q_c else q_t
  p <- (q_B - q_A) / q_B
  M_B <- if (trim_treat) M_t else M_c
  # kept mass K = M_B * q_A / q_B ; unweighted: m_A * n_B / n_A
  K <- if (unweighted) {
    if (trim_treat) m_c * n_t / n_c else m_t * n_c / n_t
  } else M_B * q_A / q_B
  R <- M_B - K
  yB <- y[d == B & s == 1]; wB <- w[d == B & s == 1]
  yA <- y[d == A & s == 1]; wA <- w[d == A & s == 1]
  muA <- sum(wA * yA) / sum(wA)
  s2A <- sum(wA * (yA - muA)^2) / sum(wA)
  m_B <- length(yB); m_A <- length(yA)
  top <- trim_stats(yB, wB, R, "top")       # top removed (lower trimmed mean)
  bot <- trim_stats(yB, wB, R, "bottom")    # bottom removed (upper trimmed mean)
  if (trim_treat) {
    LBt <- top; UBt <- bot
    L <- top$mean - muA; U <- bot$mean - muA
  } else {
    LBt <- bot; UBt <- top
    L <- muA - bot$mean; U <- muA - top$mean
  }
  pterm <- (1 - q_c) / (q_c * n_c) + (1 - q_t) / (q_t * n_t)
  kB <- (1 - p) * m_B
  varf <- function(t, s2trim, s2a) {
    (s2trim + p * (t$xi - t$mean)^2) / ((1 - p) * m_B) +
      (t$mean - t$xi)^2 * pterm + s2a / m_A
  }
  out <- list(n_t = n_t, n_c = n_c, m_t = m_t, m_c = m_c, q_t = q_t, q_c = q_c,
              trimmed_arm = if (trim_treat) "treatment" else "control", p = p,
              kept_mass = K, removed_mass = R,
              mean_other = muA, var_other_pop = s2A,
              L = L, U = U,
              LB_trim_mean = LBt$mean, LB_trim_var_pop = LBt$var_pop, LB_xi = LBt$xi,
              UB_trim_mean = UBt$mean, UB_trim_var_pop = UBt$var_pop, UB_xi = UBt$xi)
  for (conv in c("pop", "n-1")) {
    if (conv == "pop") { fT <- 1; fA <- 1 } else { fT <- kB / (kB - 1); fA <- m_A / (m_A - 1) }
    vL <- varf(LBt, LBt$var_pop * fT, s2A * fA)
    vU <- varf(UBt, UBt$var_pop * fT, s2A * fA)
    seL <- sqrt(vL); seU <- sqrt(vU)
    c95 <- im_crit(L, U, seL, seU)
    out[[paste0("se_L_", conv)]] <- seL
    out[[paste0("se_U_", conv)]] <- seU
    out[[paste0("im_c_", conv)]] <- c95
    out[[paste0("im_lo_", conv)]] <- L - c95 * seL
    out[[paste0("im_hi_", conv)]] <- U + c95 * seU
  }
  out
}

print_res <- function(title, r) {
  cat("==== ", title, " ====\n", sep = "")
  for (nm in names(r)) {
    v <- r[[nm]]
    cat(sprintf("  %-18s %s\n", nm, if (is.numeric(v)) fmt(v) else v))
  }
  cat("\n")
}

read_fixture <- function(path) {
  x <- read.csv(path, colClasses = "character", na.strings = character(0))
  d <- as.integer(x$arm == "treatment")
  stopifnot(all(x$arm %in% c("treatment", "control")))
  s <- as.integer(x$outcome != "")
  y <- rep(0, nrow(x)); y[s == 1] <- as.numeric(x$outcome[s == 1])
  w <- if ("weight" %in% names(x)) as.numeric(x$weight) else NULL
  list(d = d, s = s, y = y, w = w)
}

run_file <- function(path) {
  f <- read_fixture(path)
  print_res(paste0(basename(path), if (is.null(f$w)) " (unweighted)" else " (weighted)"),
            lee_bounds(f$d, f$s, f$y, f$w))
}

main <- function(args) {
  if (length(args) > 0) { for (a in args) run_file(a); return(invisible()) }
  # Hand example: treatment 1..8 observed + 2 missing; control 2,2,3,3,4,4 + 4 missing.
  d <- c(rep(1, 10), rep(0, 10))
  s <- c(rep(1, 8), 0, 0, rep(1, 6), rep(0, 4))
  y <- c(1:8, 0, 0, 2, 2, 3, 3, 4, 4, 0, 0, 0, 0)
  r <- lee_bounds(d, s, y)
  stopifnot(abs(r$L - 0.5) < 1e-12, abs(r$U - 2.5) < 1e-12)
  print_res("hand example (expected L=0.5, U=2.5)", r)
  # Same data, control/treatment labels swapped: control arm gets trimmed,
  # bounds must be the negatives (sanity check of the sign convention).
  r2 <- lee_bounds(1 - d, s, y)
  stopifnot(abs(r2$L + 2.5) < 1e-12, abs(r2$U + 0.5) < 1e-12)
  print_res("hand example, arms swapped (control trimmed; expected L=-2.5, U=-0.5)", r2)
  # Binary example: treatment 60 randomised, 48 observed, 30 ones;
  # control 60 randomised, 36 observed, 15 ones.
  d <- c(rep(1, 60), rep(0, 60))
  s <- c(rep(1, 48), rep(0, 12), rep(1, 36), rep(0, 24))
  y <- c(rep(1, 30), rep(0, 18), rep(0, 12), rep(1, 15), rep(0, 21), rep(0, 24))
  print_res("binary example", lee_bounds(d, s, y))
  # Weight sanity check: integer weights == replicated rows (bounds only).
  dd <- c(1, 1, 1, 1, 0, 0, 0, 0); ss <- c(1, 1, 1, 0, 1, 1, 0, 0)
  yy <- c(1, 5, 2, 0, 3, 4, 0, 0); ww <- c(2, 1, 3, 1, 1, 2, 2, 1)
  rw <- lee_bounds(dd, ss, yy, ww)
  rep_i <- rep(seq_along(dd), ww)
  rr <- lee_bounds(dd[rep_i], ss[rep_i], yy[rep_i])
  stopifnot(abs(rw$L - rr$L) < 1e-12, abs(rw$U - rr$U) < 1e-12)
  here <- tryCatch(dirname(normalizePath(sub("^--file=", "",
            grep("^--file=", commandArgs(FALSE), value = TRUE)[1]))),
            error = function(e) ".")
  for (f in c("jobcorps-week208.csv", "jobcorps-week90.csv")) {
    path <- file.path(here, f)
    if (file.exists(path)) run_file(path)
  }
}

if (sys.nframe() == 0) main(commandArgs(TRUE))
