"""The text a channel posts, the same in the compose page's previews and in the delivery."""


def post_text(text: str, link: str) -> str:
    """What a channel posts: `text`, then `link` on its own paragraph unless the text has it
    already; `link` alone when there is no text."""
    if link and link not in text:
        return f"{text}\n\n{link}" if text else link
    return text
