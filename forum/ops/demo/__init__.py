"""Demo data: a year of life on the portal, made through the services (loading.py), and bulk
forum posts for benchmarks (bulk.py); `python server.py demo` drives both (command.py).

The year is told as stories on one timeline (timeline.py), each an async generator that yields
the time of its next step: the year's people, places and clock (year.py), the forum's and the
consultations' stories (discussions.py), the letters', tax reports' and hotline replies'
(cases.py). Their words are in words/, by board.

No Tornado here.
"""
