"""The demo's material: customers of a PBX maker, what they buy, and what sellers write about them."""

from __future__ import annotations

from dataclasses import dataclass

from kanbot.demo.words import say


@dataclass(frozen=True, slots=True)
class Customer:
    company: str
    product: str
    contact: str
    region: str  # where the phone number is: "dubai", "abu_dhabi", "moscow", "spb", "london", "manchester"

    @property
    def title(self) -> str:
        return self.title_in("en")

    def title_in(self, lang: str) -> str:
        """The deal's title as a seller writing in ``lang`` types it."""
        return f"{say(self.company, lang)}: {say(self.product, lang)}"

    def contact_in(self, lang: str) -> str:
        return say(self.contact, lang)


# Thirteen customers per seller, in the order the scenario in data.py gives them fates.
ALI_CUSTOMERS = (
    Customer("Al Noor Trading", "20 IP phones", "أحمد المنصوري", "dubai"),
    Customer("Desert Rose Hotel", "hotel PBX, 120 rooms", "Fatima Al Kaabi", "dubai"),
    Customer("Gulf Logistics", "call-center, 12 seats", "خالد الحمادي", "dubai"),
    Customer("Emirates Dental", "IP phones for 3 clinics", "Omar Haddad", "abu_dhabi"),
    Customer("Palm Realty", "SIP trunk, 30 channels", "مريم الشامسي", "dubai"),
    Customer("Falcon Security", "video intercoms", "Youssef Nasser", "dubai"),
    Customer("Marina Towers", "door-phone integration", "سارة العلي", "dubai"),
    Customer("Oasis Foods", "PBX upgrade", "Rashid Al Falasi", "abu_dhabi"),
    Customer("Sahara Motors", "call recording licence", "Hassan Saleh", "dubai"),
    Customer("Dubai Med Center", "DECT handsets x25", "نورة الكتبي", "dubai"),
    Customer("Creek Finance", "CRM click-to-call", "Karim Aziz", "dubai"),
    Customer("Al Bahar Shipping", "branch VoIP, 3 sites", "ليلى يوسف", "abu_dhabi"),
    Customer("Zayed Academy", "conference phones x6", "Samir Khoury", "abu_dhabi"),
)
MARIA_CUSTOMERS = (
    Customer("Romashka LLC", "20 IP phones", "Иван Петров", "moscow"),
    Customer("Volga Logistics", "SIP trunk, 60 channels", "Анна Смирнова", "moscow"),
    Customer("Siberia Bank", "contact-center analytics", "Sergey Volkov", "moscow"),
    Customer("Neva Hotels", "hotel PBX, 80 rooms", "Елена Козлова", "spb"),
    Customer("Ural Steel", "PBX upgrade", "Дмитрий Соколов", "moscow"),
    Customer("Kazan Pharma", "call recording licence", "Наталья Лебедева", "moscow"),
    Customer("Aurora Clinics", "IP phones, 4 sites", "Alexey Novikov", "spb"),
    Customer("Taiga Timber", "E1 gateway", "Ирина Павлова", "moscow"),
    Customer("Arbat Law Firm", "softphone licences x50", "Михаил Фёдоров", "moscow"),
    Customer("Polar Retail", "call-center, 30 seats", "Татьяна Волкова", "spb"),
    Customer("Moscow Realty Group", "IVR setup", "Pavel Orlov", "moscow"),
    Customer("Baikal Water", "annual support contract", "Екатерина Зайцева", "moscow"),
    Customer("Sever Engineering", "migration from a legacy PBX", "Андрей Кузнецов", "spb"),
)
TOM_CUSTOMERS = (
    Customer("ACME", "20 IP phones", "James Carter", "london"),
    Customer("Globex", "PBX upgrade", "Emily Watson", "london"),
    Customer("Initech", "call-center, 12 seats", "Oliver Brown", "manchester"),
    Customer("Thames Legal", "call recording licence", "Charlotte Hughes", "london"),
    Customer("Camden Clinics", "DECT handsets x15", "Harry Wilson", "london"),
    Customer("Oxford Lettings", "SIP trunk, 20 channels", "Amelia Clarke", "london"),
    Customer("Brightwater Schools", "conference phones x8", "George Hall", "manchester"),
    Customer("Northwind Traders", "headsets x40", "Isla Wright", "london"),
    Customer("Kensington Hotel", "hotel PBX, 60 rooms", "Jack Turner", "london"),
    Customer("Pennine Haulage", "branch VoIP, 5 sites", "Sophie Green", "manchester"),
    Customer("Hooli UK", "WebRTC click-to-call", "Priya Patel", "london"),
    Customer("Stark Estates", "video intercoms", "Mohammed Khan", "london"),
    Customer("Wayne Foods", "annual support contract", "Grace Evans", "manchester"),
)
# Requests from the website form, imported without an owner: they wait in the inbox for someone.
WEBSITE_LEADS = (
    Customer("Website", "IP-PBX for a 40-room hotel", "Layla Hassan", "dubai"),
    Customer("Website", "SIP trunk quote", "Дмитрий Орлов", "spb"),
    Customer("Website", "10 IP phones for a new office", "Sophie Turner", "manchester"),
)

# The language people write in where a number is (the website form's leads are typed by the customers).
REGION_LANGUAGE = {
    "dubai": "ar",
    "abu_dhabi": "ar",
    "moscow": "ru",
    "spb": "ru",
    "london": "en",
    "manchester": "en",
}

# Number prefixes (E.164 without the subscriber part) and how many digits follow.
PHONE_PLANS = {
    "dubai": ("+9714", 7),
    "abu_dhabi": ("+9712", 7),
    "moscow": ("+7495", 7),
    "spb": ("+7812", 7),
    "london": ("+4420", 8),
    "manchester": ("+44161", 7),
}

# Notes in the catalog's English, each seller's own few (``words.say`` types them in the writer's
# language); how many each has is part of the seeded story, so the lists keep their lengths.
NOTES = {
    "en": (
        "Asked for a demo unit for two weeks.",
        "The IT director decides; meeting on Thursday.",
        "They compare us with a cloud PBX: stressed on-site call recording.",
        "Sent the offer with a 5% volume discount.",
        "Wants the installation done over a weekend.",
        "Budget approved for this quarter.",
        "Need Arabic and English IVR prompts — confirmed we have both.",
        "Their old PBX is 12 years old; the handsets go too.",
    ),
    "ru": (
        "Asked for a demo unit for two weeks.",
        "The IT director decides; meeting on Thursday.",
        "They compare us with a cloud PBX: stressed on-site call recording.",
        "Sent the offer with a 5% volume discount.",
        "Budget approved for this quarter.",
    ),
    "ar": (
        "The customer asks for an updated quote.",
        "Asked for a site survey next week.",
        "Sent the offer with a 5% volume discount.",
        "The IT director decides; meeting on Thursday.",
    ),
}
LOST_NOTES = {
    "Price": "Went with a cheaper offer; we were 18% above.",
    "Chose a competitor": "Chose a cloud PBX from their telecom operator.",
    "No budget": "Budget frozen until next year.",
    "No response": "No answer to three calls and two e-mails.",
    "Not a fit": "Needs a mobile-only solution, not a PBX.",
    "Other": "Project cancelled on their side.",
}
TASKS = {
    "en": (
        "Send the revised offer",
        "Call about the contract draft",
        "Check the payment reached us",
        "Book the installation date",
        "Confirm the number of seats",
    ),
    "ru": (
        "Send the revised offer",
        "Call about the contract draft",
        "Check the payment reached us",
        "Book the installation date",
    ),
    "ar": (
        "Send the revised offer",
        "Call about the contract draft",
        "Check the payment reached us",
    ),
}
BOSS_NOTES = (
    "Strategic account — keep me posted.",
    "Offer them the extended warranty if it helps.",
    "Good work, let's get the reference.",
)
