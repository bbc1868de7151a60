"""Simulated traffic: citizens who call 12345 and agents who answer, over AMI."""
