"""Resume extraction: detect a file's type from its bytes, pull out its text, and find
structured fields (contact details, skills, education, experience) in that text.

Pure functions with no web-framework dependencies.
"""

from talaro.extraction.fields import FIELD_NAMES, ExtractedFields, extract_fields
from talaro.extraction.filetypes import DOCX, PDF, TEXT, UnsupportedFileType, detect_type
from talaro.extraction.text import ExtractedText, ExtractionError, extract_text

__all__ = [
    "DOCX",
    "FIELD_NAMES",
    "PDF",
    "TEXT",
    "ExtractedFields",
    "ExtractedText",
    "ExtractionError",
    "UnsupportedFileType",
    "detect_type",
    "extract_fields",
    "extract_text",
]
