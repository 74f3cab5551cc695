"""One router module per reference document, each at that document's paths and in its field names.

A document's own error shape is registered with ``upstat.api.errors.register_error_format``; request
validation failures answer 400 naming the field everywhere (``upstat.api.errors.validation_problem``).
"""
