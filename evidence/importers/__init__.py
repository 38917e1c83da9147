"""Importers: what is already on the phone, into the log (see docs/importing.md).

``base`` holds the interface and the registry; one module per format
(``sbr``, ``ios``, ``recordings``, ``csvfile``); ``engine`` runs an import
(validation, selection, dedup, batches) for the CLI and the server alike.
"""
