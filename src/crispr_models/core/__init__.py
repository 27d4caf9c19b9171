"""The machinery every chapter's science shares: sampler settings, fitting
(one seam for every sampler), artifacts, prose, the one-call workflow,
input checks and the registry of chapter facts.
"""
