"""Surveys: definitions, question bank, XLSForm, the public web form, invitations and responses."""
