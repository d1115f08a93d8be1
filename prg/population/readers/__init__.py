"""Readers for the files a practice brings. Adapters at the edge: bytes and a filename in, plain data out.

Every problem found in a file's content is collected and raised together as `InvalidInput`, each naming its
1-based spreadsheet row (header = row 1) and column; a file of the wrong kind, or a hostile one (zip bombs,
nested archives, XML entities), is refused with `BadFile` before its content is parsed. The safety checks,
decoding and table reading are `prg.uploads`', shared with every import; what is here is what these files
mean (and, for the national NHS Digital files, a fast byte prefilter for one practice's rows).

One module per kind of file; import each reader from its module:

- `nhs_digital`: NHS Digital's registered-patient CSVs (`read_nhs_digital`, `NhsDigitalExtract`);
- `ethnicity`: a practice's ethnicity report (`read_ethnicity_report`);
- `custom`: custom dimensions, as a table or JSON (`read_custom_dimension`);
- `small_tables`: what the last two share: small CSV/XLSX tables as text cells, columns found by header,
  counts as people write them.
"""
