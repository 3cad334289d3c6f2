"""The colours of the ablation figures: Okabe-Ito's, which stay apart for red-green colour-blind
readers too."""

BETTER_COLOR = "#0072B2"  # blue: an effect on the better side
WORSE_COLOR = "#D55E00"  # vermillion: on the worse side
NEGLIGIBLE_COLOR = "#009E73"  # bluish green: within the margin
NEUTRAL_COLOR = "0.45"
FLAG_COLOR = "#A35200"  # arm labels with failed or missing seeds
FIXED_COLOR = "#E69F00"  # orange: the fixed analysis (the tuned baseline's hyperparameters in every arm)
RETUNED_COLOR = "#CC79A7"  # reddish purple: the re-tuned analysis (each arm's own search)
DIFFER_COLOR = "#F0E442"  # yellow: a row whose verdicts differ between the two
