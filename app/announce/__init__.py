"""Announcements: what the city tells citizens about a call (it opens, voting opens or closes
soon, results are out, an idea was answered) or anything else, drafted from translated
templates, previewed against each network's limits, and published on the site at once or at a
scheduled time, with one outbox job per announcement for the channels to carry out."""
