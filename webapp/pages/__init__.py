"""The app's pages, one module each: a `*_page(kb, config, docs)` function draws it."""
