# Reference values for the group-sequential boundaries (src/stats/sequential.rs), from rpact 3.3.4.
# Run: Rscript tests/reference/sequential.R > /tmp/seq.rs
# and paste the printed constants into tests/integration/sequential.rs (DESIGNS).
# Every design: getDesignGroupSequential(...) for the boundaries, getDesignCharacteristics(design)
# for the drift (sqrt(shift)), stopping probabilities and average sample numbers at the design's
# power (1 - beta; beta = 0.2 where the design has no futility boundary).
suppressMessages(library(rpact))
stopifnot(as.character(packageVersion("rpact")) == "3.3.4")

num <- function(x) {
  if (length(x) == 0 || all(is.na(x))) return("&[]")
  paste0("&[", paste(sprintf("%.15e", x), collapse = ", "), "]")
}

emit <- function(name, efficacy, futility, fkind, beta, binding, two_sided, alpha, fractions, ...) {
  d <- getDesignGroupSequential(kMax = length(fractions), informationRates = fractions,
    alpha = alpha, sided = if (two_sided) 2 else 1, beta = beta, ...)
  c <- getDesignCharacteristics(d)
  fb <- if (fkind == "none") numeric(0) else d$futilityBounds
  cat(sprintf("    Ref {\n        name: \"%s\",\n", name))
  cat(sprintf("        efficacy: %s,\n", efficacy))
  cat(sprintf("        futility: %s,\n", futility))
  cat(sprintf("        beta: %.3f,\n        binding: %s,\n        two_sided: %s,\n        alpha: %.3f,\n",
    beta, tolower(binding), tolower(two_sided), alpha))
  cat(sprintf("        fractions: %s,\n", num(fractions)))
  cat(sprintf("        critical: %s,\n", num(d$criticalValues)))
  cat(sprintf("        futility_bounds: %s,\n", num(fb)))
  cat(sprintf("        alpha_spent: %s,\n", num(d$alphaSpent)))
  cat(sprintf("        stage_levels: %s,\n", num(d$stageLevels)))
  cat(sprintf("        shift: %.15e,\n        inflation: %.15e,\n", c$shift, c$inflationFactor))
  cat(sprintf("        rejection: %s,\n", num(c$rejectionProbabilities)))
  cat(sprintf("        futility_probs: %s,\n", num(if (fkind == "none") numeric(0) else c$futilityProbabilities)))
  cat(sprintf("        asn: [%.15e, %.15e, %.15e],\n    },\n",
    c$averageSampleNumber1, c$averageSampleNumber01, c$averageSampleNumber0))
}

OF <- "Efficacy::Spending(Spending::OBrienFleming)"
P <- "Efficacy::Spending(Spending::Pocock)"
HSD <- function(g) sprintf("Efficacy::Spending(Spending::Hsd(%.1f))", g)
HP <- "Efficacy::HaybittlePeto"
cat("const DESIGNS: &[Ref] = &[\n")
emit("OF, 3 equal looks", OF, "None", "none", 0.2, FALSE, FALSE, 0.025, c(1, 2, 3) / 3, typeOfDesign = "asOF")
emit("Pocock, 4 equal looks", P, "None", "none", 0.2, FALSE, FALSE, 0.025, c(1, 2, 3, 4) / 4, typeOfDesign = "asP")
emit("HSD(-4), 3 unequal looks", HSD(-4), "None", "none", 0.2, FALSE, FALSE, 0.05, c(0.3, 0.6, 1), typeOfDesign = "asHSD", gammaA = -4)
emit("HSD(-2), 5 equal looks", HSD(-2), "None", "none", 0.2, FALSE, FALSE, 0.025, c(1, 2, 3, 4, 5) / 5, typeOfDesign = "asHSD", gammaA = -2)
emit("HSD(1), 2 looks", HSD(1), "None", "none", 0.2, FALSE, FALSE, 0.025, c(0.5, 1), typeOfDesign = "asHSD", gammaA = 1)
emit("OF, 2 unequal looks", OF, "None", "none", 0.2, FALSE, FALSE, 0.05, c(0.4, 1), typeOfDesign = "asOF")
emit("Haybittle-Peto, 3 looks", HP, "None", "none", 0.2, FALSE, FALSE, 0.025, c(1, 2, 3) / 3, typeOfDesign = "HP")
emit("OF, beta-spending OF futility, binding", OF, "Some(Spending::OBrienFleming)", "OF", 0.2, TRUE, FALSE, 0.025, c(1, 2, 3) / 3,
  typeOfDesign = "asOF", typeBetaSpending = "bsOF", bindingFutility = TRUE)
emit("OF, beta-spending Pocock futility, non-binding", OF, "Some(Spending::Pocock)", "P", 0.1, FALSE, FALSE, 0.025, c(0.25, 0.5, 0.75, 1),
  typeOfDesign = "asOF", typeBetaSpending = "bsP", bindingFutility = FALSE)
emit("HSD(-2), beta-spending HSD(-2) futility, binding", HSD(-2), "Some(Spending::Hsd(-2.0))", "HSD", 0.2, TRUE, FALSE, 0.025, c(0.3, 0.7, 1),
  typeOfDesign = "asHSD", gammaA = -2, typeBetaSpending = "bsHSD", gammaB = -2, bindingFutility = TRUE)
emit("HSD(-4), beta-spending HSD(1) futility, non-binding, 5 looks", HSD(-4), "Some(Spending::Hsd(1.0))", "HSD", 0.2, FALSE, FALSE, 0.025, c(1, 2, 3, 4, 5) / 5,
  typeOfDesign = "asHSD", gammaA = -4, typeBetaSpending = "bsHSD", gammaB = 1, bindingFutility = FALSE)
emit("OF, two-sided, 3 looks", OF, "None", "none", 0.2, FALSE, TRUE, 0.05, c(1, 2, 3) / 3, typeOfDesign = "asOF")
emit("Pocock, two-sided, 5 unequal looks", P, "None", "none", 0.2, FALSE, TRUE, 0.05, c(0.2, 0.35, 0.6, 0.8, 1), typeOfDesign = "asP")
cat("];\n")

# The continuous-outcome validation (tests/integration/sequential.rs, CONTINUOUS_*): rpact's
# closed-form (normal approximation) power of an O'Brien-Fleming design with looks at 40 %, 70 %
# and 100 % of 1000 participants, effect 0.18 SD, one-sided alpha 2.5 %; and its size under H0.
d <- getDesignGroupSequential(kMax = 3, informationRates = c(0.4, 0.7, 1), alpha = 0.025,
  sided = 1, typeOfDesign = "asOF")
p <- getPowerMeans(d, groups = 2, alternative = 0.18, stDev = 1, maxNumberOfSubjects = 1000,
  normalApproximation = TRUE)
cat(sprintf("const CONTINUOUS_POWER: f64 = %.15e;\n", p$overallReject))
cat(sprintf("const CONTINUOUS_STAGES: [f64; 3] = [%s];\n",
  paste(sprintf("%.15e", p$rejectPerStage), collapse = ", ")))
cat(sprintf("const CONTINUOUS_EXPECTED_N: f64 = %.15e;\n", p$expectedNumberOfSubjects))

# Final inference at the last look (src/sequential.rs, unit test `final_inference_matches_rpact`):
# O'Brien-Fleming, three equal looks, one-sided alpha 2.5 %; 100 per arm per stage, SD 1, mean
# differences 0.1, 0.15, 0.3 by stage (overall z 0.7071, 1.2530, 2.2488): the stage-wise
# adjusted p-value, median-unbiased estimate and final 95 % interval of getAnalysisResults
# (normalApproximation = TRUE).
d <- getDesignGroupSequential(kMax = 3, alpha = 0.025, typeOfDesign = "asOF",
  informationRates = c(1, 2, 3) / 3)
ds <- getDataset(n1 = c(100, 100, 100), n2 = c(100, 100, 100), means1 = c(0.1, 0.15, 0.3),
  means2 = c(0, 0, 0), stDevs1 = c(1, 1, 1), stDevs2 = c(1, 1, 1))
r <- getAnalysisResults(d, ds, normalApproximation = TRUE, equalVariances = TRUE)
sr <- getStageResults(d, ds, normalApproximation = TRUE)
cat(sprintf("z %.15e, p %.15e, median-unbiased %.15e, CI %.15e %.15e\n",
  sr$overallTestStatistics[3], r$finalPValues[3], r$medianUnbiasedEstimates[3],
  r$finalConfidenceIntervalLowerBounds[3], r$finalConfidenceIntervalUpperBounds[3]))
