"""The browser interface's own parts (app.py is its entry point): document text rendered as
text, the material basket and its exports, and saving uploads. Each is a plain module over
kb's data types, testable without Streamlit."""
