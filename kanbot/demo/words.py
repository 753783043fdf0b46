"""What the demo's people type, in their own language: deal titles, contact names, notes and tasks.

The catalog is written once, in English; ``say`` gives it as a Russian or an Arabic seller would type
it. A company keeps a Latin name where its people would write it so; a word with no entry here stays
as it is (a brand, a name).
"""

from __future__ import annotations

RU = {
    # companies (Maria's customers, and the inbox's website form)
    "Romashka LLC": "ООО «Ромашка»",
    "Volga Logistics": "Волга Логистик",
    "Siberia Bank": "Сибирь Банк",
    "Neva Hotels": "Отели Нева",
    "Ural Steel": "Урал Сталь",
    "Kazan Pharma": "Казань Фарма",
    "Aurora Clinics": "Клиники «Аврора»",
    "Taiga Timber": "Тайга Лес",
    "Arbat Law Firm": "Юрфирма «Арбат»",
    "Polar Retail": "Полярная Розница",
    "Moscow Realty Group": "Московская риелторская группа",
    "Baikal Water": "Байкальская вода",
    "Sever Engineering": "Север Инжиниринг",
    "Website": "Сайт",
    # contacts written in Latin letters in the English catalog
    "Sergey Volkov": "Сергей Волков",
    "Alexey Novikov": "Алексей Новиков",
    "Pavel Orlov": "Павел Орлов",
    # what they buy
    "support renewal": "продление поддержки",
    "20 IP phones": "20 IP-телефонов",
    "hotel PBX, 120 rooms": "АТС для отеля, 120 номеров",
    "call-center, 12 seats": "колл-центр на 12 мест",
    "IP phones for 3 clinics": "IP-телефоны для 3 клиник",
    "SIP trunk, 30 channels": "SIP-транк, 30 каналов",
    "video intercoms": "видеодомофоны",
    "door-phone integration": "интеграция домофона",
    "PBX upgrade": "модернизация АТС",
    "call recording licence": "лицензия на запись разговоров",
    "DECT handsets x25": "DECT-трубки, 25 шт.",
    "CRM click-to-call": "звонок из CRM в один клик",
    "branch VoIP, 3 sites": "VoIP для 3 филиалов",
    "conference phones x6": "конференц-телефоны, 6 шт.",
    "SIP trunk, 60 channels": "SIP-транк, 60 каналов",
    "contact-center analytics": "аналитика контакт-центра",
    "hotel PBX, 80 rooms": "АТС для отеля, 80 номеров",
    "IP phones, 4 sites": "IP-телефоны на 4 площадки",
    "E1 gateway": "шлюз E1",
    "softphone licences x50": "лицензии софтфонов, 50 шт.",
    "call-center, 30 seats": "колл-центр на 30 мест",
    "IVR setup": "настройка голосового меню",
    "annual support contract": "годовой договор на поддержку",
    "migration from a legacy PBX": "переход со старой АТС",
    "DECT handsets x15": "DECT-трубки, 15 шт.",
    "SIP trunk, 20 channels": "SIP-транк, 20 каналов",
    "conference phones x8": "конференц-телефоны, 8 шт.",
    "headsets x40": "гарнитуры, 40 шт.",
    "hotel PBX, 60 rooms": "АТС для отеля, 60 номеров",
    "branch VoIP, 5 sites": "VoIP для 5 филиалов",
    "WebRTC click-to-call": "звонок с сайта через WebRTC",
    "IP-PBX for a 40-room hotel": "IP-АТС для отеля на 40 номеров",
    "SIP trunk quote": "расчёт SIP-транка",
    "10 IP phones for a new office": "10 IP-телефонов для нового офиса",
    # notes
    "Asked for a demo unit for two weeks.": "Попросили тестовый комплект на две недели.",
    "The IT director decides; meeting on Thursday.": "Решение принимает ИТ-директор, встреча в четверг.",
    "They compare us with a cloud PBX: stressed on-site call recording.": (
        "Сравнивают с облачной АТС — сделала упор на запись разговоров у себя."
    ),
    "Sent the offer with a 5% volume discount.": "Отправила КП со скидкой 5% за объём.",
    "Wants the installation done over a weekend.": "Хотят, чтобы монтаж прошёл в выходные.",
    "Budget approved for this quarter.": "Бюджет на квартал согласован.",
    "Need Arabic and English IVR prompts — confirmed we have both.": (
        "Нужно голосовое меню на русском и английском — подтвердила, что есть оба."
    ),
    "Their old PBX is 12 years old; the handsets go too.": "Старой АТС 12 лет, телефоны тоже меняют.",
    "The customer asks for an updated quote.": "Клиент просит обновлённое КП.",
    "Asked for a site survey next week.": "Попросили выезд на объект на следующей неделе.",
    # lost deals' notes
    "Went with a cheaper offer; we were 18% above.": "Выбрали предложение дешевле, мы были на 18% дороже.",
    "Chose a cloud PBX from their telecom operator.": "Взяли облачную АТС у своего оператора связи.",
    "Budget frozen until next year.": "Бюджет заморожен до следующего года.",
    "No answer to three calls and two e-mails.": "Не ответили на три звонка и два письма.",
    "Needs a mobile-only solution, not a PBX.": "Нужна только мобильная связь, не АТС.",
    "Project cancelled on their side.": "Проект отменили на их стороне.",
    # tasks
    "Send the revised offer": "Отправить обновлённое КП",
    "Call about the contract draft": "Созвониться по проекту договора",
    "Check the payment reached us": "Проверить поступление оплаты",
    "Book the installation date": "Согласовать дату монтажа",
    "Confirm the number of seats": "Уточнить число рабочих мест",
    # the boss's notes
    "Strategic account — keep me posted.": "Стратегический клиент — держите меня в курсе.",
    "Offer them the extended warranty if it helps.": "Предложите расширенную гарантию, если поможет.",
    "Good work, let's get the reference.": "Отличная работа, попросим у них отзыв.",
}

AR = {
    # companies (Ali's customers, and the inbox's website form)
    "Al Noor Trading": "النور للتجارة",
    "Desert Rose Hotel": "فندق وردة الصحراء",
    "Gulf Logistics": "الخليج للخدمات اللوجستية",
    "Emirates Dental": "الإمارات لطب الأسنان",
    "Palm Realty": "النخلة العقارية",
    "Falcon Security": "الصقر للأنظمة الأمنية",
    "Marina Towers": "أبراج المارينا",
    "Oasis Foods": "الواحة للأغذية",
    "Sahara Motors": "الصحراء للسيارات",
    "Dubai Med Center": "مركز دبي الطبي",
    "Creek Finance": "الخور للتمويل",
    "Al Bahar Shipping": "البحر للشحن",
    "Zayed Academy": "أكاديمية زايد",
    "Website": "الموقع الإلكتروني",
    # contacts written in Latin letters in the English catalog
    "Fatima Al Kaabi": "فاطمة الكعبي",
    "Omar Haddad": "عمر حداد",
    "Youssef Nasser": "يوسف ناصر",
    "Rashid Al Falasi": "راشد الفلاسي",
    "Hassan Saleh": "حسن صالح",
    "Karim Aziz": "كريم عزيز",
    "Samir Khoury": "سمير خوري",
    "Layla Hassan": "ليلى حسن",
    # what they buy
    "support renewal": "تجديد الدعم",
    "20 IP phones": "20 هاتف IP",
    "hotel PBX, 120 rooms": "مقسم فندق، 120 غرفة",
    "call-center, 12 seats": "مركز اتصال، 12 مقعدًا",
    "IP phones for 3 clinics": "هواتف IP لثلاث عيادات",
    "SIP trunk, 30 channels": "خط SIP، 30 قناة",
    "video intercoms": "أجهزة اتصال داخلي بالفيديو",
    "door-phone integration": "ربط هاتف الباب",
    "PBX upgrade": "تحديث المقسم",
    "call recording licence": "رخصة تسجيل المكالمات",
    "DECT handsets x25": "25 سماعة DECT",
    "CRM click-to-call": "الاتصال بنقرة من CRM",
    "branch VoIP, 3 sites": "اتصال VoIP لثلاثة فروع",
    "conference phones x6": "6 هواتف مؤتمرات",
    "SIP trunk, 60 channels": "خط SIP، 60 قناة",
    "contact-center analytics": "تحليلات مركز الاتصال",
    "hotel PBX, 80 rooms": "مقسم فندق، 80 غرفة",
    "IP phones, 4 sites": "هواتف IP لأربعة مواقع",
    "E1 gateway": "بوابة E1",
    "softphone licences x50": "50 رخصة هاتف برمجي",
    "call-center, 30 seats": "مركز اتصال، 30 مقعدًا",
    "IVR setup": "إعداد الرد الصوتي التفاعلي",
    "annual support contract": "عقد دعم سنوي",
    "migration from a legacy PBX": "الانتقال من مقسم قديم",
    "DECT handsets x15": "15 سماعة DECT",
    "SIP trunk, 20 channels": "خط SIP، 20 قناة",
    "conference phones x8": "8 هواتف مؤتمرات",
    "headsets x40": "40 سماعة رأس",
    "hotel PBX, 60 rooms": "مقسم فندق، 60 غرفة",
    "branch VoIP, 5 sites": "اتصال VoIP لخمسة فروع",
    "WebRTC click-to-call": "الاتصال من الموقع عبر WebRTC",
    "IP-PBX for a 40-room hotel": "مقسم IP لفندق من 40 غرفة",
    "SIP trunk quote": "عرض سعر لخط SIP",
    "10 IP phones for a new office": "10 هواتف IP لمكتب جديد",
    # notes
    "Asked for a demo unit for two weeks.": "طلبوا جهازًا تجريبيًا لمدة أسبوعين.",
    "The IT director decides; meeting on Thursday.": "القرار لمدير تقنية المعلومات؛ الاجتماع يوم الخميس.",
    "They compare us with a cloud PBX: stressed on-site call recording.": (
        "يقارنوننا بمقسم سحابي: ركّزت على تسجيل المكالمات في موقعهم."
    ),
    "Sent the offer with a 5% volume discount.": "أرسلت العرض مع خصم 5% على الكمية.",
    "Wants the installation done over a weekend.": "يريدون التركيب في عطلة نهاية الأسبوع.",
    "Budget approved for this quarter.": "تمت الموافقة على الميزانية لهذا الربع.",
    "Need Arabic and English IVR prompts — confirmed we have both.": (
        "يحتاجون رسائل صوتية بالعربية والإنجليزية — أكدت أن لدينا الاثنتين."
    ),
    "Their old PBX is 12 years old; the handsets go too.": "عمر المقسم القديم 12 سنة؛ وستُستبدل الهواتف أيضًا.",
    "The customer asks for an updated quote.": "العميل يطلب عرض سعر محدث.",
    "Asked for a site survey next week.": "طلبوا معاينة الموقع الأسبوع القادم.",
    # lost deals' notes
    "Went with a cheaper offer; we were 18% above.": "اختاروا عرضًا أرخص؛ كان سعرنا أعلى بنسبة 18%.",
    "Chose a cloud PBX from their telecom operator.": "اختاروا مقسمًا سحابيًا من مشغّل الاتصالات لديهم.",
    "Budget frozen until next year.": "الميزانية مجمّدة حتى العام القادم.",
    "No answer to three calls and two e-mails.": "لا رد على ثلاث مكالمات ورسالتين.",
    "Needs a mobile-only solution, not a PBX.": "يحتاجون حلًا للجوال فقط، لا مقسمًا.",
    "Project cancelled on their side.": "ألغوا المشروع من جهتهم.",
    # tasks
    "Send the revised offer": "إرسال العرض المعدّل",
    "Call about the contract draft": "الاتصال بشأن مسودة العقد",
    "Check the payment reached us": "التأكد من وصول الدفعة",
    "Book the installation date": "تحديد موعد التركيب",
    "Confirm the number of seats": "تأكيد عدد المقاعد",
    # the boss's notes
    "Strategic account — keep me posted.": "عميل استراتيجي — أبقني على اطلاع.",
    "Offer them the extended warranty if it helps.": "اعرض عليهم الضمان الممتد إن كان ذلك يساعد.",
    "Good work, let's get the reference.": "عمل رائع، لنطلب منهم توصية.",
}

WORDS = {"ru": RU, "ar": AR}


def say(text: str, lang: str) -> str:
    """``text`` (the catalog's English) as someone writing in ``lang`` would type it."""
    return WORDS.get(lang, {}).get(text, text)
