"""Synth-speed machinery: how the jsii bindings and kernel load and run, never what a stack synthesizes."""
