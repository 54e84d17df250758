"""Word pools for the CRM seed, on top of the QBO seed's names, streets and company words."""

from __future__ import annotations

# How a CRM user writes the name a bookkeeper typed in full (and back).
NICKNAMES = {
    "William": "Bill",
    "Elizabeth": "Liz",
    "Robert": "Bob",
    "James": "Jim",
    "Jennifer": "Jen",
    "Michael": "Mike",
    "Richard": "Rick",
    "Joseph": "Joe",
    "Thomas": "Tom",
    "Christopher": "Chris",
    "Daniel": "Dan",
    "Matthew": "Matt",
    "Anthony": "Tony",
    "Steven": "Steve",
    "Andrew": "Andy",
    "Kenneth": "Ken",
    "Kimberly": "Kim",
    "Patricia": "Pat",
    "Margaret": "Peggy",
    "Susan": "Sue",
    "John": "Jon",
    "Jon": "John",
    "Ana": "Anna",
    "Anna": "Ana",
    "José": "Jose",
    "Zoë": "Zoe",
    "Renée": "Renee",
    "Bill": "William",
    "Liz": "Elizabeth",
}
POSITIONS = ("Owner", "Office Manager", "Purchasing", "Accounts Payable", "CEO", "Facilities")
CITIES = (
    ("Mountain View", "CA", "94043"),
    ("Tucson", "AZ", "85701"),
    ("Austin", "TX", "78701"),
    ("Portland", "OR", "97201"),
    ("Denver", "CO", "80202"),
    ("Boise", "ID", "83702"),
    ("Raleigh", "NC", "27601"),
)
SERVICES = (
    "Spring cleanup",
    "Irrigation install",
    "Patio design",
    "Annual maintenance",
    "Tree trimming",
    "Lighting upgrade",
    "Snow removal contract",
)
BASIC_USERS = (
    ("Riley", "Parker"),
    ("Morgan", "Chen"),
    ("Jordan", "Okafor"),
)
