"""Where things live on the site, for redirects, notifications and e-mails."""


def idea_path(idea_id: int, anchor: str = "") -> str:
    return f"/ideas/{idea_id}" + (f"#{anchor}" if anchor else "")


def comment_path(idea_id: int, comment_id: int) -> str:
    return idea_path(idea_id, f"comment-{comment_id}")
