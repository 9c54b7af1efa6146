"""Tests of the browser app (client_web/) and their harness: Chromium, a served app, a cuttable relay."""
