# Reference values for the randomisation tests (src/stats/randomisation.rs unit tests and
# tests/integration/randomisation.rs): exact permutation p-values by enumerating every
# assignment with combn(), and Fisher's exact test, in base R.
#
# Run: Rscript tests/reference/randomisation.R   (printed with 17 significant digits)
p <- function(...) cat(paste(sapply(list(...), function(x)
  if (is.numeric(x)) sprintf("%.17g", x) else x), collapse = " "), "\n")

# Binary 8 + 8: 6/8 against 2/8.
p("fisher_greater", fisher.test(matrix(c(6, 2, 2, 6), 2), alternative = "greater")$p.value)
y <- c(1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0)
perm <- function(y, nt, alt) {
  obs <- mean(y[1:nt]) - mean(y[-(1:nt)])
  s <- combn(length(y), nt, function(i) mean(y[i]) - mean(y[-i]))
  tol <- 1e-9 * max(abs(c(obs, y)))
  switch(alt, greater = mean(s >= obs - tol), less = mean(s <= obs + tol),
         two = mean(abs(s) >= abs(obs) - tol))
}
p("binary_8_8", perm(y, 8, "greater"), perm(y, 8, "less"), perm(y, 8, "two"))

# Continuous 8 + 8: the first eight in treatment (the values of the integration test).
z <- c(3.1, 4.7, 2.2, 5.9, 4.4, 3.8, 6.1, 2.9, 2.4, 3.0, 1.7, 4.1, 2.2, 3.3, 1.9, 2.6)
p("continuous_8_8", perm(z, 8, "greater"), perm(z, 8, "less"), perm(z, 8, "two"),
  choose(16, 8))
