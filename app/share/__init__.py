"""What leaves the site when a page is shared or followed: Open Graph previews, share images
and Atom feeds. Public content only, read through app.idea.queries' one definition of it."""
