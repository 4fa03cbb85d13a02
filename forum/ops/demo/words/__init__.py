"""The words of the demo data, by board: people and places (people.py), the city forum
(forum.py), the lawyers' and experts' consultations (consultations.py), mayor letters and the
casework between offices (letters.py), tax reports (tax.py), hotline replies (hotline.py), and
the pool bulk forum posts are made from (bulk.py). The stories that tell them are in
forum/ops/demo/.

Everything here is invented for the demo. Places are the city's districts and counties and
made-up streets and estates; businesses are never named ("某"); phone numbers only look like
phone numbers. Placeholders in braces ({road}, {community}, ...) are filled per post from the
lists in people.py, so that the same kind of letter reads as coming from different parts of the
city.
"""
