"""Calls' recordings at the telephony edge: fetching them from cloud PBXs, finding Asterisk's
MixMonitor files, and carrying them to the CRM."""
