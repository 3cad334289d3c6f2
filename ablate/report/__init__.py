"""Study reports: the model (``model``, built by ``build``), markdown, html, figures, and the
writer of the report folder. Pure except ``write``."""
