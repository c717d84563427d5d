"""Implementation pieces shared by several detectors (not a detector itself: the registry skips
folders whose name starts with "_")."""
