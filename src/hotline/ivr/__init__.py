"""The IVR: flow model, YAML loader, renderers (dialplan, TwiML) and prompts."""
