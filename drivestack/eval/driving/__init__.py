"""Closed-loop driving metrics: the nuPlan score and Euro NCAP style pass/fail."""
