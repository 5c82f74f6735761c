"""The staff admin and HTTP API (Flask). Built in the admin issue; the package exists so the
layout and packaging are in place."""
