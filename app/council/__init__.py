"""Figures and files for the council: the participation report, staff exports, the council pack,
and the public figures of the open-data API."""
