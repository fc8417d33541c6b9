"""The rule-based writer's phrase book: per family of templates and per language, hooks, body
beats and calls to action, each with its on-screen title.

``{s}`` is the subject: the idea's own words when they are in the script's language ("our
couscous restaurant in Algiers"), else the family's generic noun (``generic``). Each sentence
is written so the subject fits it as a whole noun phrase, whatever its gender or number.
Visual prompts are English (what image generators read best).
"""

from __future__ import annotations

from typing import Any

# template -> family
FAMILIES = {
    "restaurant": "restaurant",
    "childrens-story": "story",
    "explainer": "explainer",
    "podcast": "explainer",
    "news": "explainer",
    "product-promo": "promo",
    "social": "promo",
    "real-estate": "promo",
    "default": "promo",
}

# family -> visual prompts of (hook, body beats..., call to action)
VISUALS: dict[str, dict[str, Any]] = {
    "restaurant": {
        "hook": "the welcoming entrance and dining room of {subject}, evening light",
        "body": (
            "a cook's hands preparing fresh vegetables and spices on a wooden counter",
            "a slow-cooked family dish served in a clay pot, steam rising",
            "friends and family sharing a meal around a warm table, laughing",
            "generous plates on a table, golden light",
        ),
        "cta": "a set table waiting for guests, candle light, inviting",
    },
    "promo": {
        "hook": "hero shot of {subject} on a clean backdrop, bold light",
        "body": (
            "a happy person using {subject} in everyday life",
            "close-up of fine details and materials",
            "smiling customers recommending it to friends",
            "a hand tapping a phone to get started, simple and fast",
        ),
        "cta": "{subject} with a bold, colourful backdrop, celebratory",
    },
    "explainer": {
        "hook": "a curious person facing a big question mark, clean flat illustration",
        "body": (
            "a simple clear diagram of the basics of {subject}",
            "a step-by-step illustration with numbered steps",
            "a common mistake crossed out in red, next to the right way",
            "a lightbulb moment, bright idea, clean illustration",
        ),
        "cta": "a friendly presenter waving goodbye, follow button",
    },
    "story": {
        "hook": "storybook illustration of {subject}, soft colours, once upon a time",
        "body": (
            "a small village at sunrise, something unexpected appears",
            "setting off on a winding path through a colourful forest",
            "new animal friends helping each other across a river",
            "a warm happy ending at sunset, everyone together",
        ),
        "cta": "a night sky full of stars over a cosy bedroom, moonlit",
    },
}

# family -> language -> phrases. "titles": hook, body..., cta.
PHRASES: dict[str, dict[str, dict[str, Any]]] = {
    "restaurant": {
        "en": {
            "generic": "our restaurant",
            "hook": (
                "Looking for a real taste of home? Welcome to {s}.",
                "Hungry? Then come and sit down at {s}, the place you have been looking for.",
            ),
            "body": (
                "Every dish is cooked fresh each morning, with produce from the market and "
                "spices we know by heart.",
                "Our recipes come from our families, slow-cooked the way they were at home, and "
                "served generously.",
                "Bring your friends, your family and your appetite: there is always a warm table "
                "and a glass of tea waiting for you.",
                "Generous plates at honest prices, every day of the week, for lunch and dinner.",
            ),
            "cta": (
                "Book your table today and come taste the difference at {s}.",
                "Come hungry, leave happy: book your table at {s} today.",
            ),
            "titles": (
                "Welcome",
                "Cooked fresh",
                "Family recipes",
                "A warm table",
                "Honest prices",
                "Book your table",
            ),
        },
        "fr": {
            "generic": "notre restaurant",
            "hook": (
                "Envie d'un vrai goût de maison ? Bienvenue dans {s}.",
                "Une petite faim ? Installez-vous dans {s}, l'adresse que vous cherchiez.",
            ),
            "body": (
                "Chaque plat est préparé le matin même, avec les produits du marché et des épices "
                "que nous connaissons par cœur.",
                "Nos recettes viennent de nos familles : mijotées lentement, comme à la maison, "
                "et servies généreusement.",
                "Venez entre amis ou en famille : une table chaleureuse et un verre de thé vous "
                "attendent toujours.",
                "Des assiettes généreuses à prix honnêtes, tous les jours, midi et soir.",
            ),
            "cta": (
                "Réservez votre table dès aujourd'hui et venez goûter la différence dans {s}.",
                "Venez avec l'appétit, repartez avec le sourire : réservez votre table dans {s}.",
            ),
            "titles": (
                "Bienvenue",
                "Fait maison",
                "Recettes de famille",
                "Une table chaleureuse",
                "Prix doux",
                "Réservez",
            ),
        },
        "es": {
            "generic": "nuestro restaurante",
            "hook": (
                "¿Buscas el auténtico sabor de casa? Bienvenido a {s}.",
                "¿Tienes hambre? Siéntate en {s}, el lugar que estabas buscando.",
            ),
            "body": (
                "Cada plato se prepara fresco cada mañana, con productos del mercado y especias "
                "que conocemos de memoria.",
                "Nuestras recetas vienen de nuestras familias: cocinadas a fuego lento, como en "
                "casa, y servidas con generosidad.",
                "Ven con tus amigos o con tu familia: siempre hay una mesa acogedora y un vaso "
                "de té esperándote.",
                "Platos generosos a precios honestos, todos los días, a mediodía y por la noche.",
            ),
            "cta": (
                "Reserva tu mesa hoy mismo y ven a probar la diferencia en {s}.",
                "Ven con hambre y sal feliz: reserva hoy tu mesa en {s}.",
            ),
            "titles": (
                "Bienvenido",
                "Recién hecho",
                "Recetas de familia",
                "Una mesa acogedora",
                "Precios justos",
                "Reserva ya",
            ),
        },
        "ar": {
            "generic": "مطعمنا",
            "hook": (
                "هل تبحث عن طعم البيت الحقيقي؟ أهلًا بك في {s}.",
                "جائع؟ نحن في انتظارك في {s}، المكان الذي كنت تبحث عنه.",
            ),
            "body": (
                "كل طبق يُحضَّر طازجًا كل صباح، بخضار السوق وبتوابل نعرفها عن ظهر قلب.",
                "وصفاتنا ورثناها عن عائلاتنا، تُطهى على نار هادئة كما في البيت، وتُقدَّم بسخاء.",
                "تعال مع أصدقائك أو عائلتك: هناك دائمًا طاولة دافئة وكأس شاي في انتظارك.",
                "أطباق سخية بأسعار معقولة، كل يوم، في الغداء والعشاء.",
            ),
            "cta": (
                "احجز طاولتك اليوم وتعال لتتذوق الفرق في {s}.",
                "تعال جائعًا واخرج سعيدًا: احجز طاولتك اليوم في {s}.",
            ),
            "titles": (
                "أهلًا بكم",
                "طازج كل يوم",
                "وصفات العائلة",
                "طاولة دافئة",
                "أسعار معقولة",
                "احجز الآن",
            ),
        },
        "hi": {
            "generic": "हमारे रेस्टोरेंट",
            "hook": (
                "घर जैसा असली स्वाद ढूँढ रहे हैं? {s} में आपका स्वागत है।",
                "भूख लगी है? {s} में हम आपका इंतज़ार कर रहे हैं।",
            ),
            "body": (
                "हर व्यंजन रोज़ सुबह ताज़ा बनता है, बाज़ार की सब्ज़ियों और उन मसालों से जिन्हें हम दिल से जानते हैं।",
                "हमारी रेसिपी हमारे परिवारों से आई हैं: घर की तरह धीमी आँच पर पकी हुई, और प्यार से परोसी गई।",
                "दोस्तों या परिवार के साथ आइए: एक गर्मजोशी भरी मेज़ और एक कप चाय हमेशा आपका इंतज़ार करती है।",
                "भरपूर थालियाँ, सही दामों पर, हर दिन, दोपहर और रात।",
            ),
            "cta": (
                "आज ही {s} में अपनी टेबल बुक कीजिए और फ़र्क़ चखिए।",
                "भूखे आइए, ख़ुश होकर जाइए: आज ही {s} में अपनी टेबल बुक कीजिए।",
            ),
            "titles": (
                "स्वागत है",
                "रोज़ ताज़ा",
                "परिवार की रेसिपी",
                "गर्मजोशी भरी मेज़",
                "सही दाम",
                "अभी बुक करें",
            ),
        },
    },
    "promo": {
        "en": {
            "generic": "our latest launch",
            "hook": (
                "Stop scrolling: this is {s}.",
                "What if one thing could make your day easier? Meet {s}.",
            ),
            "body": (
                "It was made for people like you, who want things done well, without any fuss.",
                "Every detail has been thought through, tested and improved, so it simply works.",
                "People who try it keep coming back, and they tell their friends.",
                "And the best part: it is easy to start, today, at a fair price.",
            ),
            "cta": (
                "Try {s} today: the link is right below.",
                "Don't wait: discover {s} now and see for yourself.",
            ),
            "titles": (
                "Meet it",
                "Made for you",
                "Every detail",
                "Loved by many",
                "Easy to start",
                "Try it today",
            ),
        },
        "fr": {
            "generic": "notre nouveauté",
            "hook": (
                "Arrêtez de scroller : voici {s}.",
                "Et si une seule chose pouvait vous simplifier la vie ? Découvrez {s}.",
            ),
            "body": (
                "C'est pensé pour vous, qui voulez des choses bien faites, sans complications.",
                "Chaque détail a été réfléchi, testé et amélioré, pour que tout fonctionne, "
                "simplement.",
                "Ceux qui l'essaient y reviennent, et en parlent à leurs amis.",
                "Et le meilleur : c'est facile de commencer, dès aujourd'hui, à un prix juste.",
            ),
            "cta": (
                "Essayez {s} dès aujourd'hui : le lien est juste en dessous.",
                "N'attendez plus : découvrez {s} et jugez par vous-même.",
            ),
            "titles": (
                "Découvrez",
                "Pensé pour vous",
                "Chaque détail",
                "Ils adorent",
                "Facile",
                "Essayez",
            ),
        },
        "es": {
            "generic": "nuestra novedad",
            "hook": (
                "Deja de deslizar: esto es {s}.",
                "¿Y si una sola cosa pudiera hacerte el día más fácil? Descubre {s}.",
            ),
            "body": (
                "Está pensado para ti, que quieres las cosas bien hechas y sin complicaciones.",
                "Cada detalle ha sido pensado, probado y mejorado, para que todo funcione sin más.",
                "Quienes lo prueban vuelven, y se lo cuentan a sus amigos.",
                "Y lo mejor: es fácil empezar, hoy mismo, a un precio justo.",
            ),
            "cta": (
                "Prueba {s} hoy: el enlace está justo abajo.",
                "No esperes más: descubre {s} y compruébalo tú mismo.",
            ),
            "titles": (
                "Descubre",
                "Pensado para ti",
                "Cada detalle",
                "Les encanta",
                "Fácil de empezar",
                "Pruébalo",
            ),
        },
        "ar": {
            "generic": "جديدنا",
            "hook": (
                "توقف عن التمرير: هذا هو {s}.",
                "ماذا لو كان هناك شيء واحد يسهّل يومك؟ اكتشف {s}.",
            ),
            "body": (
                "صُنع من أجلك، لمن يريد الأشياء متقنة ومن دون تعقيد.",
                "كل تفصيل تمّ التفكير فيه وتجربته وتحسينه، ليعمل ببساطة.",
                "من يجرّبه يعود إليه، ويحدّث أصدقاءه عنه.",
                "والأجمل: البداية سهلة، اليوم، وبسعر عادل.",
            ),
            "cta": (
                "جرّب {s} اليوم: الرابط في الأسفل.",
                "لا تنتظر: اكتشف {s} الآن وشاهد بنفسك.",
            ),
            "titles": (
                "اكتشف",
                "صُنع لك",
                "كل تفصيل",
                "يحبّه الجميع",
                "بداية سهلة",
                "جرّبه اليوم",
            ),
        },
        "hi": {
            "generic": "हमारी नई पेशकश",
            "hook": (
                "स्क्रॉल करना रोकिए: यह है {s}।",
                "क्या हो अगर एक ही चीज़ आपका दिन आसान बना दे? मिलिए {s} से।",
            ),
            "body": (
                "यह आपके लिए बना है, जो चाहते हैं कि हर काम अच्छे से हो, बिना झंझट के।",
                "हर बारीकी को सोचा, परखा और बेहतर किया गया है, ताकि सब कुछ बस आसानी से चले।",
                "जिन्होंने इसे आज़माया, वे लौटकर आते हैं और अपने दोस्तों को बताते हैं।",
                "और सबसे अच्छी बात: शुरुआत आसान है, आज से ही, सही दाम पर।",
            ),
            "cta": (
                "आज ही {s} आज़माइए: लिंक नीचे है।",
                "इंतज़ार मत कीजिए: अभी {s} देखिए और ख़ुद परखिए।",
            ),
            "titles": (
                "मिलिए",
                "आपके लिए",
                "हर बारीकी",
                "सबकी पसंद",
                "आसान शुरुआत",
                "आज ही आज़माइए",
            ),
        },
    },
    "explainer": {
        "en": {
            "generic": "this topic",
            "hook": (
                "Ever wondered about {s}? Let's make it simple.",
                "Here is everything you need to know about {s}, in under a minute.",
            ),
            "body": (
                "First, the basics: what it is, and why it matters to you.",
                "Next, how it works, step by step, with one simple example.",
                "Then, the mistake most people make, and how to avoid it.",
                "Finally, one tip you can use today.",
            ),
            "cta": (
                "Save this video, share it with a friend, and follow for more.",
                "Now you know. Follow for the next one.",
            ),
            "titles": (
                "The question",
                "The basics",
                "How it works",
                "Common mistake",
                "One tip",
                "Your turn",
            ),
        },
        "fr": {
            "generic": "ce sujet",
            "hook": (
                "Vous vous êtes déjà posé des questions sur {s} ? On vous explique simplement.",
                "Voici l'essentiel à savoir sur {s}, en moins d'une minute.",
            ),
            "body": (
                "D'abord, les bases : ce que c'est, et pourquoi cela vous concerne.",
                "Ensuite, comment ça marche, étape par étape, avec un exemple simple.",
                "Puis l'erreur que beaucoup font, et comment l'éviter.",
                "Enfin, un conseil à appliquer dès aujourd'hui.",
            ),
            "cta": (
                "Enregistrez cette vidéo, partagez-la à un ami, et abonnez-vous pour la suite.",
                "Maintenant, vous savez. Abonnez-vous pour la prochaine.",
            ),
            "titles": (
                "La question",
                "Les bases",
                "Comment ça marche",
                "L'erreur à éviter",
                "Un conseil",
                "À vous",
            ),
        },
        "es": {
            "generic": "este tema",
            "hook": (
                "¿Alguna vez te has preguntado por {s}? Te lo explicamos fácil.",
                "Esto es lo que necesitas saber sobre {s}, en menos de un minuto.",
            ),
            "body": (
                "Primero, lo básico: qué es y por qué te importa.",
                "Después, cómo funciona, paso a paso, con un ejemplo sencillo.",
                "Luego, el error que comete casi todo el mundo, y cómo evitarlo.",
                "Por último, un consejo que puedes usar hoy mismo.",
            ),
            "cta": (
                "Guarda este video, compártelo con un amigo y síguenos para más.",
                "Ahora ya lo sabes. Síguenos para el próximo.",
            ),
            "titles": (
                "La pregunta",
                "Lo básico",
                "Cómo funciona",
                "El error común",
                "Un consejo",
                "Tu turno",
            ),
        },
        "ar": {
            "generic": "هذا الموضوع",
            "hook": (
                "هل تساءلت يومًا عن {s}؟ سنشرحه لك ببساطة.",
                "إليك كل ما تحتاج معرفته عن {s}، في أقل من دقيقة.",
            ),
            "body": (
                "أولًا، الأساسيات: ما هو، ولماذا يهمّك.",
                "ثانيًا، كيف يعمل، خطوة بخطوة، بمثال بسيط.",
                "ثالثًا، الخطأ الذي يقع فيه الكثيرون، وكيف تتجنّبه.",
                "وأخيرًا، نصيحة يمكنك تطبيقها اليوم.",
            ),
            "cta": (
                "احفظ هذا الفيديو، وشاركه مع صديق، وتابعنا للمزيد.",
                "الآن أنت تعرف. تابعنا للحلقة القادمة.",
            ),
            "titles": ("السؤال", "الأساسيات", "كيف يعمل", "خطأ شائع", "نصيحة", "دورك"),
        },
        "hi": {
            "generic": "इस विषय",
            "hook": (
                "क्या आपने कभी {s} के बारे में सोचा है? आइए इसे आसान भाषा में समझें।",
                "एक मिनट में जानिए {s} के बारे में सब कुछ।",
            ),
            "body": (
                "पहले, बुनियादी बात: यह क्या है, और यह आपके लिए क्यों ज़रूरी है।",
                "फिर, यह कैसे काम करता है, कदम दर कदम, एक आसान उदाहरण के साथ।",
                "उसके बाद, वह गलती जो ज़्यादातर लोग करते हैं, और उससे कैसे बचें।",
                "और आख़िर में, एक सुझाव जिसे आप आज ही अपना सकते हैं।",
            ),
            "cta": (
                "इस वीडियो को सेव कीजिए, किसी दोस्त के साथ शेयर कीजिए, और ऐसे और वीडियो के लिए "
                "फ़ॉलो कीजिए।",
                "अब आप जान गए। अगले वीडियो के लिए फ़ॉलो कीजिए।",
            ),
            "titles": ("सवाल", "बुनियादी बात", "कैसे काम करता है", "आम गलती", "एक सुझाव", "आपकी बारी"),
        },
    },
    "story": {
        "en": {
            "generic": "a curious little hero",
            "hook": (
                "Once upon a time, there was {s}.",
                "Long ago, in a land not far from here, lived {s}.",
            ),
            "body": (
                "Every day was the same, until one morning, something unexpected happened.",
                "It was a little scary, but our hero took a deep breath and set off on an "
                "adventure.",
                "Along the way, new friends offered to help, and together they found a way.",
                "And in the end, our hero learned that being brave means trying, even when you "
                "are afraid.",
            ),
            "cta": (
                "The end. Sleep tight, and dream of your own adventure.",
                "And that is the end of our story. Which part did you like best?",
            ),
            "titles": (
                "Once upon a time",
                "One morning",
                "The adventure",
                "New friends",
                "The lesson",
                "The end",
            ),
        },
        "fr": {
            "generic": "un petit héros très curieux",
            "hook": (
                "Il était une fois {s}.",
                "Il y a bien longtemps, dans un pays pas si loin d'ici, vivait {s}.",
            ),
            "body": (
                "Chaque jour se ressemblait, jusqu'au matin où quelque chose d'inattendu arriva.",
                "C'était un peu effrayant, mais notre héros prit une grande inspiration et partit "
                "à l'aventure.",
                "En chemin, de nouveaux amis lui tendirent la main, et ensemble, ils trouvèrent "
                "une solution.",
                "Et à la fin, notre héros comprit qu'être courageux, c'est essayer, même quand on "
                "a peur.",
            ),
            "cta": (
                "Fin. Dors bien, et rêve de ta propre aventure.",
                "Et voilà la fin de notre histoire. Quel moment as-tu préféré ?",
            ),
            "titles": (
                "Il était une fois",
                "Un matin",
                "L'aventure",
                "De nouveaux amis",
                "La leçon",
                "Fin",
            ),
        },
        "es": {
            "generic": "un pequeño héroe muy curioso",
            "hook": (
                "Había una vez {s}.",
                "Hace mucho tiempo, en un lugar no muy lejano, vivía {s}.",
            ),
            "body": (
                "Todos los días eran iguales, hasta que una mañana ocurrió algo inesperado.",
                "Daba un poco de miedo, pero nuestro héroe respiró hondo y partió a la aventura.",
                "Por el camino, nuevos amigos le ofrecieron ayuda, y juntos encontraron la manera.",
                "Y al final, nuestro héroe aprendió que ser valiente es intentarlo, aunque "
                "tengas miedo.",
            ),
            "cta": (
                "Fin. Que duermas bien y sueñes con tu propia aventura.",
                "Y este es el final de nuestra historia. ¿Qué parte te gustó más?",
            ),
            "titles": (
                "Había una vez",
                "Una mañana",
                "La aventura",
                "Nuevos amigos",
                "La lección",
                "Fin",
            ),
        },
        "ar": {
            "generic": "بطل صغير فضولي",
            "hook": (
                "كان يا ما كان، في قديم الزمان، {s}.",
                "منذ زمن بعيد، في بلاد ليست بعيدة من هنا، عاش {s}.",
            ),
            "body": (
                "كانت الأيام كلها متشابهة، حتى جاء صباح حدث فيه شيء لم يتوقعه أحد.",
                "كان الأمر مخيفًا قليلًا، لكن بطلنا أخذ نفسًا عميقًا وانطلق في مغامرة.",
                "وفي الطريق، مدّ له أصدقاء جدد يد العون، ووجدوا معًا الحل.",
                "وفي النهاية، تعلّم بطلنا أن الشجاعة هي أن نحاول، حتى عندما نخاف.",
            ),
            "cta": (
                "النهاية. نومًا هنيئًا، واحلم بمغامرتك الخاصة.",
                "وهذه نهاية حكايتنا. أيّ جزء أعجبك أكثر؟",
            ),
            "titles": ("كان يا ما كان", "ذات صباح", "المغامرة", "أصدقاء جدد", "الدرس", "النهاية"),
        },
        "hi": {
            "generic": "एक छोटे-से जिज्ञासु दोस्त",
            "hook": (
                "एक समय की बात है। यह कहानी है {s} की।",
                "बहुत पुरानी बात है, यहाँ से ज़्यादा दूर नहीं, एक देश में {s} की कहानी शुरू हुई।",
            ),
            "body": (
                "हर दिन एक जैसा था, जब तक एक सुबह कुछ अनोखा नहीं हुआ।",
                "थोड़ा डर लगा, पर हमारे नायक ने गहरी साँस ली और एक रोमांचक सफ़र पर निकल पड़ा।",
                "रास्ते में नए दोस्तों ने मदद की, और साथ मिलकर उन्होंने रास्ता खोज लिया।",
                "और आख़िर में, हमारे नायक ने सीखा कि बहादुरी का मतलब है कोशिश करना, डर लगने पर भी।",
            ),
            "cta": (
                "कहानी ख़त्म। शुभ रात्रि, और अपने सफ़र के मीठे सपने देखो।",
                "और यहीं हमारी कहानी ख़त्म होती है। तुम्हें कौन-सा हिस्सा सबसे अच्छा लगा?",
            ),
            "titles": ("एक समय की बात", "एक सुबह", "सफ़र", "नए दोस्त", "सीख", "समाप्त"),
        },
    },
}

# How the idea's own words become the subject: leading articles replaced by a possessive
# (promos speak as the business: "a couscous restaurant" -> "our couscous restaurant").
POSSESSIVE: dict[str, dict[str, str]] = {
    "en": {"a": "our", "an": "our", "the": "our"},
    "fr": {"un": "notre", "une": "notre", "le": "notre", "la": "notre", "l'": "notre "},
    "es": {"un": "nuestro", "una": "nuestra", "el": "nuestro", "la": "nuestra"},
}

# The meta words around the subject of an idea ("a 30-second promo for ..."), by language:
# a kind of video, then a preposition; the subject is what follows.
IDEA_LEAD: dict[str, str] = {
    "en": r"(?:video|promo|ad|advert|advertisement|commercial|reel|short|clip|story|tale|"
    r"explainer|tutorial|teaser|presentation|announcement|post|spot)s?\s+"
    r"(?:for|about|on|of|showing|presenting|introducing|explaining)\s+",
    "fr": r"(?:vidéo|pub|publicité|promo|spot|reel|clip|histoire|conte|présentation|annonce|"
    r"tutoriel)s?\s+(?:pour|sur|de|du|des|d'|présentant|expliquant)\s*",
    "es": r"(?:video|vídeo|anuncio|promo|spot|reel|clip|historia|cuento|presentación|tutorial)"
    r"s?\s+(?:para|sobre|de|del)\s+",
    "ar": r"(?:فيديو|إعلان|اعلان|قصة|حكاية|شرح)\s+(?:عن|ل|حول)\s*",
    "hi": r"",
}
