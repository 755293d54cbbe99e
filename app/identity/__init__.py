"""The city's identity: platform and city names, logo, brand colours, footer and social links,
set by administrators (app.identity.routes) and used by every page, e-mail and app icon."""
