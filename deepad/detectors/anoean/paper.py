"""Gherbi et al.'s comparison: AnoEAN against Deep SAD, OC-SVM and EGBAD on its set-up."""

from deepad.detectors.papers import Arm, PaperPlan

PLAN = PaperPlan(
    "004", "Gherbi et al.", "anoean", "Gherbi et al.: AnoEAN against Deep SAD, OC-SVM and EGBAD (its test share)",
    {"known_anomalies": 0.1, "known_classes": [1, 3, 5, 7], "test_anomaly_share": 0.2},
    (Arm("AnoEAN", "anoean", beats=("Deep SAD", "OC-SVM", "EGBAD")),
     Arm("Deep SAD", "deep-svdd", {"eta": 1.0}),
     Arm("OC-SVM", "ocsvm"),
     Arm("EGBAD", "egbad")),
    note="10 % known anomalies from four classes (moved with the normal class), 20 % anomalies at test. "
         "The paper's MNIST results are figures only (no number in its text).")
