// kbb: every pipeline stage as plain typed functions. Notebooks and the REPL import from here.
