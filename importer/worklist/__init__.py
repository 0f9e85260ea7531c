"""Worklist mode: finding the order a study goes to in the RIS's Modality Worklist.

- :mod:`~importer.worklist.query`: the search built from an identity and its ranking (pure);
- :mod:`~importer.worklist.client`: the DIMSE client (C-FIND), over :mod:`importer.dimse`;
- :mod:`~importer.worklist.errors`: its domain errors, and the way back from an error reply;
- :mod:`~importer.worklist.schemas`: its answers (pydantic), as the worker sends them and the
  api returns them;
- :mod:`~importer.worklist.handler`: the two questions the worker answers (search, orders).
"""
