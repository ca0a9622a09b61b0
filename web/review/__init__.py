"""Match proposals: the staff review queue, a proposal, proposing by hand, expressing interest, my matches."""
