"""Veritas glue: token verification, the request path and the command line.

The business rules live in PostgreSQL (see ``sql/``); this package only
proves who the caller is, opens one transaction as the caller's database role
and calls a function of the ``api`` schema.
"""
