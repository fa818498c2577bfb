"""Renderers: each turns the IR into the text of one generated file."""
