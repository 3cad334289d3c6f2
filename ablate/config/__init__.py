"""A study's params: the schema (``schema``) and the reader of params files (``load``)."""
