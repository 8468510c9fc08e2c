"""The dashboard's data layer: everything the Streamlit pages show, computed without Streamlit.

Pages call into these modules and only render what they return.
"""
