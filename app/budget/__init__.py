"""Participatory budgets: a call whose voting mode is "budget" (issue 16). Moderators cost
each idea in a technical review, citizens fill a ballot within the budget and confirm it, and
the projects are funded greedily in the order of their supports."""
