"""The shared vocabulary at the bottom of the house: the params as frozen sections (the
ablation's, its seed plan, the search space's knobs), storage URLs, objectives and constraints, the
direction of an objective, a trial's states and failure reasons (enums whose members are their
words), the steps of a study, the trials table's columns, a trial's spec and result, and a run's
facts as frozen records. It imports nothing of ablate but the errors, and everything may import it."""
