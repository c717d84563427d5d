"""Ma et al.'s comparison: Rt-BiGAN against EGBAD under pollution, and its meta-initialisation against a random one."""

from deepad.detectors.papers import Arm, PaperPlan

PLAN = PaperPlan(
    "003", "Ma et al.", "rt-bigan", "Ma et al.: Rt-BiGAN against EGBAD under pollution; meta-initialisation against random",
    {"pollution": 0.2, "known_normals": 10},
    (Arm("EGBAD, clean", "egbad", setup={"pollution": 0.0}, paper=0.98),
     Arm("EGBAD, polluted", "egbad", paper=0.52),
     Arm("Rt-BiGAN (meta-init.), polluted", "rt-bigan", paper=0.84,
         beats=("EGBAD, polluted", "Rt-BiGAN, random init., polluted")),
     Arm("Rt-BiGAN, random init., polluted", "rt-bigan", {"meta_iterations": 0})),
    classes=(0,),
    note="Ours: 20 % other digits as unlabelled pollution, 10 known normals; the paper: full MNIST "
         "polluted with Fashion-MNIST (Table I).")
