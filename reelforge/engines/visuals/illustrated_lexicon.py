# ruff: noqa: E501 - one subject per line: the table reads best unwrapped
"""What the illustrated engine can draw, and the words that call for it, in six languages.

Light to import (no numpy, no Pillow). Each line of ``TABLE`` is one subject: an emoji, its tags,
then keywords per language. CLDR emoji annotations (Debian ``unicode-cldr-core``) add the
emoji's own name in every language CLDR covers; this table adds what CLDR lacks: dishes and
places (couscous, tajine, merguez, chorba), inflections and everyday synonyms.

Tags: ``hot`` draws steam above the subject, ``swarm`` scatters several copies (butterflies,
stars), ``sky`` places it high, ``lively`` makes it bounce (animals, children), ``glow`` pulses
(fire, light), ``minor`` weighs half (times, prices, greetings: said often, rarely the
subject). Keywords: lower case; a keyword of 4+ letters also matches its inflections of up
to 2 more letters (sardine -> sardines); CJK keywords match anywhere in the text; a keyword
with a space matches the phrase.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass

TABLE = """
🍲 | hot | en: couscous, stew, soup, chorba, tagine, tajine, broth, hotpot | fr: couscous, ragoût, soupe, chorba, tajine, marmite, potage | es: cuscús, guiso, sopa, estofado | ar: كسكسي, كسكس, الكسكسي, شوربة, شربة, طاجين, حساء | hi: सूप, शोरबा | ja: スープ, 鍋, シチュー, クスクス
🥘 | hot | en: paella, casserole, pan, dish, dishes, meal | fr: plat, plats, repas, poêlée | es: paella, plato, platos, comida | ar: طبق, أطباق, وجبة | hi: व्यंजन, खाना, भोजन | ja: 料理, 食事
🍵 | hot | en: tea, teas | fr: thé, thés, tisane | es: té, infusión | ar: شاي, أتاي | hi: चाय | ja: お茶, 緑茶, 抹茶
☕ | hot | en: coffee, espresso, cappuccino, latte, cafe, café | fr: café, cafés, expresso, espresso | es: café, cafetería | ar: قهوة, مقهى | hi: कॉफी, कॉफ़ी, कैफ़े | ja: コーヒー, 喫茶, カフェ, 珈琲, エスプレッソ
🫘 | | en: bean, beans, grind, grinder | fr: grain, grains, moudre, mouture, moulin | es: grano, granos, molienda, molinillo | ar: حبوب, بن | hi: बीन्स, दाना | ja: 豆, 焙煎
🐟 | lively | en: fish, sardine, sardines, seafood, tuna | fr: poisson, poissons, sardine, sardines, thon | es: pescado, pez, sardina, sardinas, atún | ar: سمك, سردين, سردينة | hi: मछली, मछलियाँ | ja: 魚, 鰯, いわし, サバ
🔥 | glow | en: grill, grilled, fire, charcoal, barbecue, flame, flames, burn, roast, roasted | fr: grill, grillé, grillées, grillade, grillades, feu, braise, braises, charbon, barbecue, flamme, rôti | es: parrilla, fuego, brasa, brasas, carbón, asado, llama | ar: مشوي, مشوية, شواء, نار, فحم, جمر | hi: आग, अंगीठी, भुना | ja: 炭火, 焚き火, 焼き, 焙煎
🌭 | | en: sausage, sausages, merguez, hot dog | fr: merguez, saucisse, saucisses | es: salchicha, merguez, chorizo | ar: مرقاز, نقانق | hi: सॉसेज | ja: ソーセージ
🌶️ | | en: harissa, chili, chilli, pepper, spicy, spice, spices | fr: harissa, piment, piments, épice, épices, épicé | es: harissa, chile, picante, especias | ar: هريسة, فلفل, حار, بهارات, توابل | hi: मिर्च, मसाला, मसाले | ja: 唐辛子, スパイス
🍖 | | en: lamb, meat, mutton, kebab | fr: agneau, viande, méchoui, brochette, brochettes | es: cordero, carne | ar: لحم, خروف, مشوي | hi: मांस, गोश्त | ja: 肉, ラム
🥕 | | en: vegetable, vegetables, carrot, carrots | fr: légume, légumes, carotte, carottes | es: verdura, verduras, zanahoria, hortalizas | ar: خضار, خضروات, جزر | hi: सब्जी, सब्ज़ी, सब्जियाँ, गाजर | ja: 野菜, 人参
🥗 | | en: salad, salads | fr: salade, salades | es: ensalada, ensaladas | ar: سلطة, سلطات, السلطات | hi: सलाद | ja: サラダ
🍞 | | en: bread, loaf, baguette, bakery | fr: pain, pains, baguette, boulangerie, galette | es: pan, panadería | ar: خبز, الخبز, كسرة, مطلوع | hi: रोटी, ब्रेड, पराठा | ja: パン
🫒 | | en: olive, olives, olive oil | fr: olive, olives, olivier, oliviers, huile d'olive | es: aceituna, aceitunas, olivo, olivos, aceite | ar: زيتون, الزيتون, زيت, زيتا, زيتًا, زيتونة | hi: जैतून | ja: オリーブ
🍯 | | en: honey, honeyed | fr: miel | es: miel | ar: عسل | hi: शहद | ja: 蜂蜜, はちみつ
🍪 | | en: cookie, cookies, biscuit, biscuits, pastry, pastries, makroud, baklava | fr: gâteau, gâteaux, biscuit, biscuits, pâtisserie, pâtisseries, makroud, baklava | es: galleta, galletas, pastel, pasteles, dulce, dulces | ar: حلوى, حلويات, مقروط, بقلاوة, كعك | hi: मिठाई, लड्डू, बिस्कुट | ja: お菓子, 菓子, クッキー
🍡 | | en: mochi, wagashi, dango, sweets | fr: douceur, douceurs, sucreries | es: dulces | ar: حلويات | hi: मिठाइयाँ | ja: 和菓子, 団子, 餅, きんとん, 桜餅
🌰 | | en: chestnut, chestnuts, nut, nuts | fr: marron, marrons, châtaigne, châtaignes, noix | es: castaña, castañas, nuez | ar: كستناء, جوز | hi: अखरोट | ja: 栗
🍰 | | en: cake, dessert, desserts, sweet | fr: dessert, desserts, sucré, tarte | es: postre, postres, tarta | ar: كعكة, تحلية | hi: केक | ja: ケーキ, デザート
🍳 | | en: kitchen, cook, cooking, cooked, chef | fr: cuisine, cuisinier, cuisinière, cuisson, chef | es: cocina, cocinar, cocinero, chef | ar: مطبخ, طبخ, طباخ | hi: रसोई, पकाना | ja: 台所, キッチン, 料理人
🍽️ | minor | en: restaurant, dinner, lunch, table, tables, menu, eat | fr: restaurant, dîner, déjeuner, table, menu, manger | es: restaurante, cena, almuerzo, mesa, menú | ar: مطعم, عشاء, غداء, مائدة, طاولة | hi: रेस्टोरेंट, भोजनालय, मेज़ | ja: レストラン, 食堂, 定食
🌿 | | en: mint, herb, herbs, leaf, leaves | fr: menthe, herbe, herbes, feuille, feuilles | es: menta, hierba, hierbas, hoja, hojas | ar: نعناع, أعشاب | hi: पुदीना, पत्ता, पत्ते | ja: ミント, 葉, ハーブ
🥛 | | en: milk | fr: lait | es: leche | ar: حليب, لبن | hi: दूध | ja: 牛乳, ミルク
🍾 | | en: bottle, bottles | fr: bouteille, bouteilles | es: botella, botellas | ar: زجاجة, زجاجتكم, قارورة | hi: बोतल | ja: ボトル, 瓶
🍅 | | en: tomato, tomatoes | fr: tomate, tomates | es: tomate, tomates | ar: طماطم | hi: टमाटर | ja: トマト
🍋 | | en: lemon, lemons | fr: citron, citrons | es: limón, limones | ar: ليمون | hi: नींबू | ja: レモン
🍊 | | en: orange, oranges | fr: orange, oranges | es: naranja, naranjas | ar: برتقال | hi: संतरा | ja: みかん, オレンジ
🍎 | | en: apple, apples, fruit, fruits | fr: pomme, pommes, fruit, fruits | es: manzana, manzanas, fruta, frutas | ar: تفاح, فاكهة, فواكه | hi: सेब, फल | ja: りんご, 果物
🍚 | | en: rice | fr: riz | es: arroz | ar: أرز, رز | hi: चावल, भात | ja: ご飯, 米
🫖 | hot | en: teapot | fr: théière | es: tetera | ar: إبريق | hi: केतली | ja: 急須
🥐 | | en: croissant, breakfast | fr: croissant, croissants, petit-déjeuner | es: cruasán, desayuno | ar: فطور, كرواسون | hi: नाश्ता | ja: 朝食, クロワッサン
🧀 | | en: cheese | fr: fromage, fromages | es: queso | ar: جبن, جبنة | hi: पनीर | ja: チーズ
🦁 | lively | en: lion, lions, king of the jungle | fr: lion, lions | es: león, leones | ar: أسد, الأسد | hi: शेर, सिंह, शेरों | ja: ライオン, 獅子
🐇 | lively | en: rabbit, rabbits, hare, bunny | fr: lapin, lapins, lièvre | es: conejo, conejos, liebre | ar: أرنب, الأرنب | hi: खरगोश, खरगोशों | ja: うさぎ, 兎, ウサギ
🐾 | lively | en: animal, animals, pet, pets | fr: animal, animaux | es: animal, animales | ar: حيوان, حيوانات | hi: जानवर, जानवरों, पशु | ja: 動物
🌳 | | en: forest, forests, jungle, tree, trees, woods, orchard, orchards, park | fr: forêt, forêts, jungle, arbre, arbres, bois, verger, vergers, parc | es: bosque, selva, árbol, árboles, huerto | ar: غابة, شجرة, أشجار, بساتين, بستان | hi: जंगल, पेड़, वन, बाग | ja: 森, 木, 林, 公園
🦋 | swarm | en: butterfly, butterflies | fr: papillon, papillons | es: mariposa, mariposas | ar: فراشة, فراشات | hi: तितली, तितलियाँ, तितलियां | ja: 蝶, ちょうちょ, チョウ
🐦 | sky, swarm | en: bird, birds | fr: oiseau, oiseaux | es: pájaro, pájaros, ave, aves | ar: طائر, طيور, عصفور | hi: चिड़िया, पक्षी | ja: 鳥
🐸 | lively | en: frog, frogs | fr: grenouille, grenouilles | es: rana, ranas | ar: ضفدع | hi: मेंढक | ja: 蛙, カエル
🦆 | lively | en: duck, ducks | fr: canard, canards | es: pato, patos | ar: بطة, بط | hi: बत्तख | ja: アヒル, カモ
🐈 | lively | en: cat, cats, kitten | fr: chat, chats, chaton | es: gato, gatos | ar: قط, قطة | hi: बिल्ली | ja: 猫, ねこ
🐕 | lively | en: dog, dogs, puppy | fr: chien, chiens | es: perro, perros | ar: كلب | hi: कुत्ता | ja: 犬
🐘 | lively | en: elephant, elephants | fr: éléphant, éléphants | es: elefante | ar: فيل | hi: हाथी | ja: 象
🐒 | lively | en: monkey, monkeys | fr: singe, singes | es: mono, monos | ar: قرد | hi: बंदर | ja: 猿, サル
🐑 | lively | en: sheep | fr: mouton, moutons | es: oveja, ovejas | ar: خروف, غنم | hi: भेड़ | ja: 羊
🐄 | lively | en: cow, cows | fr: vache, vaches | es: vaca, vacas | ar: بقرة | hi: गाय | ja: 牛
🐪 | lively | en: camel, camels, desert | fr: chameau, dromadaire, désert | es: camello, desierto | ar: جمل, صحراء | hi: ऊँट, रेगिस्तान | ja: ラクダ, 砂漠
🐝 | swarm | en: bee, bees | fr: abeille, abeilles | es: abeja, abejas | ar: نحلة, نحل | hi: मधुमक्खी | ja: 蜂
🌸 | swarm | en: blossom, blossoms, cherry blossom, spring, sakura | fr: printemps, fleur de cerisier | es: primavera | ar: ربيع | hi: वसंत, बसंत | ja: 桜, 春
🍁 | swarm | en: autumn | fr: automne | es: otoño | ar: خريف | hi: पतझड़ | ja: 秋, 紅葉
🌼 | | en: flower, flowers, jasmine, garden, gardens | fr: fleur, fleurs, jasmin, jardin, jardins | es: flor, flores, jazmín, jardín | ar: زهرة, زهور, ياسمين, حديقة | hi: फूल, चमेली, बगीचा | ja: 花, ジャスミン, 庭
🌴 | | en: palm, palms, palm tree, tropical | fr: palmier, palmiers | es: palmera, palmeras | ar: نخلة, نخيل | hi: ताड़, खजूर | ja: ヤシ
⛰️ | | en: mountain, mountains, hill, hills, heights | fr: montagne, montagnes, colline, collines, hauteurs | es: montaña, montañas, colina, colinas, alturas | ar: جبل, جبال, الجبال, تلة | hi: पहाड़, पर्वत | ja: 山
🌊 | | en: sea, ocean, bay, wave, waves, beach, coast, stream, river | fr: mer, océan, baie, vague, vagues, plage, côte, rivière, ruisseau | es: mar, océano, bahía, ola, olas, playa, costa, río, arroyo | ar: بحر, البحر, محيط, خليج, شاطئ, نهر, موج | hi: समुद्र, सागर, नदी, लहर, लहरें | ja: 海, 湾, 波, 川, 浜
⚓ | | en: port, harbour, harbor, anchor, marina | fr: port, ancre | es: puerto, ancla | ar: ميناء, مرسى | hi: बंदरगाह | ja: 港
⛵ | | en: boat, boats, sail, sailed, ship | fr: bateau, bateaux, voile, navire | es: barco, barcos, barca, velero | ar: قارب, سفينة, مركب | hi: नाव, जहाज़ | ja: 船, ボート
🌧️ | | en: rain, raining, rainy, storm | fr: pluie, pleut, pluvieux, orage | es: lluvia, llueve, lluvioso, tormenta | ar: مطر, أمطار | hi: बारिश, वर्षा | ja: 雨
☀️ | sky, glow | en: sun, sunny, sunlight, sunshine, solar | fr: soleil, ensoleillé, solaire | es: sol, soleado, solar | ar: شمس, الشمس, شمسي, مشمس | hi: सूरज, सूर्य, धूप | ja: 太陽, 日光, 晴れ
🌙 | sky, glow | en: moon, night, tonight, bedtime | fr: lune, nuit, soir, soirée | es: luna, noche | ar: قمر, ليل, ليلة | hi: चाँद, चांद, रात | ja: 月夜, 満月, お月様, 夜
⭐ | sky, swarm | en: star, stars, starry | fr: étoile, étoiles | es: estrella, estrellas | ar: نجمة, نجوم | hi: तारा, तारे, सितारे | ja: 星
☁️ | sky | en: cloud, clouds, sky | fr: nuage, nuages, ciel | es: nube, nubes, cielo | ar: غيمة, سحاب, سماء | hi: बादल, आसमान, आकाश | ja: 雲, 青空, 空の
🌅 | minor | en: morning, sunrise, dawn | fr: matin, lever du soleil, aube | es: mañana, amanecer | ar: صباح, الصباح, فجر | hi: सुबह, सवेरा | ja: 朝, 朝日
🌍 | | en: earth, world, planet, globe, humanity | fr: terre, monde, planète, humanité | es: tierra, mundo, planeta, humanidad | ar: الأرض, عالم, كوكب | hi: पृथ्वी, धरती, दुनिया | ja: 地球, 世界
⚡ | glow | en: electricity, electric, electrons, current, energy, power, volt | fr: électricité, électrique, électrons, courant, énergie | es: electricidad, eléctrico, electrones, corriente, energía | ar: كهرباء, طاقة, تيار | hi: बिजली, ऊर्जा | ja: 電気, 電力, エネルギー
🔌 | | en: plug, socket, inverter, outlet | fr: onduleur | es: enchufe, inversor | ar: قابس, مقبس | hi: प्लग | ja: コンセント, プラグ
💡 | glow | en: light, lights, idea, ideas, lamp, bulb | fr: lumière, lumières, idée, idées, lampe | es: luz, luces, idea, ideas, lámpara | ar: ضوء, نور, فكرة, مصباح | hi: रोशनी, प्रकाश, विचार, बल्ब | ja: 光, 明かり, アイデア
🔋 | | en: battery, batteries, panel, panels, charge | fr: batterie, batteries, panneau, panneaux | es: batería, baterías, panel, paneles | ar: بطارية, لوح, ألواح | hi: बैटरी, पैनल | ja: 電池, パネル
🏠 | | en: home, house, houses, homes | fr: maison, maisons, foyer, domicile | es: casa, casas, hogar | ar: بيت, منزل, منازل, دار | hi: घर, मकान | ja: お家, 住宅, 我が家
🏡 | | en: villa, cottage, property | fr: villa, propriété, pavillon | es: villa, chalet, propiedad | ar: فيلا, عقار | hi: बंगला, कोठी | ja: 別荘, 一軒家
🛋️ | | en: living room, sofa, lounge, couch | fr: salon, canapé | es: salón, sofá | ar: صالون, أريكة | hi: सोफा, बैठक | ja: リビング, ソファ
🛏️ | | en: bedroom, bedrooms, bed, beds, sleep, sleepy | fr: chambre, chambres, lit, lits, dormir | es: dormitorio, dormitorios, habitación, habitaciones, cama | ar: غرفة نوم, سرير, نوم | hi: बिस्तर, शयनकक्ष | ja: 寝室, ベッド, 眠
🛁 | | en: bathroom, bathrooms, bath | fr: salle de bain, salles de bain, bain | es: baño, baños | ar: حمام | hi: स्नानघर, बाथरूम | ja: 風呂, 浴室
🏊 | | en: pool, swimming, swim | fr: piscine, nager | es: piscina, nadar | ar: مسبح, سباحة | hi: तरणताल, तैराकी | ja: プール
🚪 | minor | en: door, doors, entrance, step through | fr: porte, portes, entrée | es: puerta, puertas, entrada | ar: باب, أبواب | hi: दरवाज़ा, दरवाजा, द्वार | ja: 扉, ドア, 玄関
🪟 | minor | en: window, windows, glass doors | fr: fenêtre, fenêtres, baie vitrée | es: ventana, ventanas | ar: نافذة, نوافذ | hi: खिड़की | ja: 窓
🕌 | | en: casbah, kasbah, medina, mosque | fr: casbah, médina, mosquée | es: casba, medina, mezquita | ar: قصبة, القصبة, مدينة قديمة, مسجد | hi: मस्जिद | ja: モスク
⛩️ | | en: kyoto, shrine, temple | fr: kyoto, sanctuaire, temple | es: kioto, santuario, templo | ar: معبد | hi: मंदिर | ja: 京都, 神社, 寺
🏙️ | minor | en: city, cities, town, downtown, algiers | fr: ville, villes, centre-ville, alger | es: ciudad, ciudades, argel | ar: مدينة, الجزائر, العاصمة | hi: शहर, नगर | ja: 都市, 街, 町
🏘️ | minor | en: village, villages, neighbourhood, neighborhood, district, commune | fr: village, quartier, commune | es: pueblo, barrio | ar: قرية, حي, الولايات | hi: गाँव, गांव, मोहल्ला | ja: 村, 近所
🌉 | | en: bridge, bridges | fr: pont, ponts | es: puente, puentes | ar: جسر, قنطرة | hi: पुल | ja: 橋
📚 | | en: book, books, library, media library, reading | fr: livre, livres, médiathèque, bibliothèque, lecture | es: libro, libros, biblioteca, lectura | ar: كتاب, كتب, مكتبة, قراءة | hi: किताब, पुस्तक, पुस्तकालय | ja: 本屋, 書籍, 図書館, 読書
📖 | | en: story, stories, tale, tales | fr: conte, contes, histoire, histoires | es: cuento, cuentos, historia | ar: قصة, حكاية | hi: कहानी, कथा | ja: 物語, 昔話
🎉 | | en: party, celebration, celebrate, festival, opening, inauguration | fr: fête, fêtes, célébration, inauguration, ouverture, festival | es: fiesta, celebración, inauguración, festival | ar: حفل, احتفال, عيد, افتتاح | hi: उत्सव, त्योहार, जश्न, दिवाली | ja: 祭り, パーティー, お祝い
🎵 | | en: music, song, songs, concert, sing | fr: musique, chanson, chansons, concert, chanter | es: música, canción, canciones, concierto | ar: موسيقى, أغنية, حفلة موسيقية | hi: संगीत, गाना, गीत | ja: 音楽, 歌, コンサート
🕘 | minor | en: hour, hours, opening hours, clock, noon, midnight | fr: heure, heures, horaire, horaires | es: hora, horas, horario, horarios | ar: ساعة, ساعات, مواعيد | hi: घंटा, घंटे | ja: 時間, 時計, 七時
📅 | minor | en: appointment, calendar, week, weekend, friday, saturday, sunday, monday | fr: rendez-vous, semaine, vendredi, samedi, dimanche, lundi, mardi | es: cita, semana, viernes, sábado, domingo, lunes | ar: موعد, أسبوع, الجمعة, السبت | hi: सप्ताह, हफ्ता, शुक्रवार, रविवार | ja: 予約, 週, 金曜, 土曜, 日曜
📞 | minor | en: call, phone, telephone, book your table | fr: appelez, appeler, téléphone, réservez, réserver | es: llame, llamar, teléfono, reserve, reservar | ar: اتصل, اتصلوا, هاتف, احجز | hi: फोन, कॉल | ja: 電話, 予約
🚚 | | en: delivery, delivered, shipping | fr: livraison, livré | es: entrega, envío, reparto | ar: توصيل, التوصيل, شحن | hi: डिलीवरी | ja: 配達, 配送
🛒 | minor | en: shop, store, buy, order, market | fr: boutique, magasin, acheter, commandez, commander, marché | es: tienda, comprar, pedido, mercado | ar: متجر, سوق, اشتر, اطلبوا, اطلبوه, اطلب | hi: दुकान, बाज़ार, खरीदें | ja: お店, 買い物, 注文, 市場
💶 | minor | en: euro, euros, price, prices, money, free, cost | fr: euro, euros, prix, argent, gratuit, gratuite | es: euro, euros, precio, dinero, gratis | ar: سعر, مال, مجاني, مجانا, دينار | hi: पैसा, कीमत, मुफ्त, रुपये | ja: 円, 値段, 無料
⚙️ | | en: setting, settings, mechanism, machine, burr, burrs, engine | fr: réglage, réglages, mécanisme, machine | es: ajuste, ajustes, mecanismo, máquina | ar: آلة, ضبط | hi: मशीन, सेटिंग | ja: 機械, 設定
🤫 | minor | en: quiet, silent, silence, hush, noise | fr: silencieux, silence, bruit | es: silencioso, silencio, ruido | ar: هادئ, صمت, ضجيج | hi: शांत, चुप, शोर | ja: 静か, 静寂
👵 | | en: grandmother, grandma, granny | fr: grand-mère, mamie | es: abuela | ar: جدة, الجدة | hi: दादी, नानी | ja: おばあちゃん, 祖母
👧 | lively | en: girl, girls, daughter, lila | fr: fille, fillette | es: niña, niñas | ar: بنت, فتاة | hi: लड़की | ja: 女の子, 少女
👦 | lively | en: boy, boys, son | fr: garçon, garçons | es: niño, niños, chico | ar: ولد, صبي | hi: लड़का | ja: 男の子, 少年
🧒 | lively | en: child, children, kids, kid | fr: enfant, enfants | es: niños, hijos | ar: طفل, أطفال | hi: बच्चा, बच्चे, बच्चों | ja: 子供, 子ども
👨‍👩‍👧 | | en: family, families | fr: famille, familles | es: familia, familias | ar: عائلة, أسرة | hi: परिवार | ja: 家族
🤝 | minor | en: welcome, welcomes, together, friends, meet | fr: bienvenue, accueille, accueil, ensemble, amis | es: bienvenido, bienvenidos, juntos, amigos | ar: مرحبا, مرحبًا, أهلا, مرحبا بكم | hi: स्वागत, दोस्त | ja: ようこそ, 仲間
😊 | minor | en: smile, smiled, smiling, happy, happiness | fr: sourire, sourit, heureux, bonheur | es: sonrisa, sonrió, feliz | ar: ابتسامة, سعيد | hi: मुस्कान, खुश, ख़ुश | ja: 笑顔, 幸せ
😠 | minor | en: angry, anger, proud, arrogant | fr: colère, fâché, orgueilleux | es: enfadado, ira, orgulloso | ar: غضب, غاضب, متكبر | hi: गुस्से, गुस्सा, क्रोध, घमंडी | ja: 怒り, 怒
🕊️ | | en: peace, peaceful, calm | fr: paix, paisible | es: paz, tranquilo | ar: سلام, هدوء | hi: शांति, अमन | ja: 平和, 安らぎ
🪞 | | en: reflection, mirror, shadow | fr: reflet, miroir, ombre | es: reflejo, espejo, sombra | ar: انعكاس, مرآة, ظل | hi: परछाईं, परछाई, प्रतिबिंब, दर्पण | ja: 影, 鏡
🪣 | | en: bucket, water well | fr: puits, seau | es: pozo, cubo | ar: بئر, دلو | hi: कुआँ, कुएँ, कुएं, कुआं, बाल्टी | ja: 井戸, バケツ
✋ | minor | en: hand, hands, handmade, by hand | fr: main, mains, à la main | es: mano, manos, a mano | ar: يد, باليد, يدوي | hi: हाथ | ja: 手で, 手作り
📄 | minor | en: paper, folded, fold | fr: papier, plié, plier | es: papel, doblado, doblar | ar: ورق, ورقة | hi: कागज़, कागज | ja: 紙, 折り紙
💻 | | en: computer, laptop, digital, online, app, software | fr: ordinateur, numérique, logiciel, application, en ligne | es: ordenador, computadora, digital, aplicación | ar: حاسوب, رقمي, تطبيق | hi: कंप्यूटर, डिजिटल, ऐप | ja: パソコン, デジタル, アプリ
📱 | | en: phone, smartphone, mobile | fr: smartphone, portable, mobile | es: móvil, celular | ar: جوال, هاتف ذكي | hi: मोबाइल | ja: スマホ, 携帯
🚗 | | en: car, cars, drive, road | fr: voiture, voitures, route | es: coche, coches, carretera | ar: سيارة, طريق | hi: गाड़ी, कार, सड़क | ja: 車, 道路
✈️ | sky | en: plane, flight, fly, travel, trip | fr: avion, vol, voyage, voyager | es: avión, vuelo, viaje, viajar | ar: طائرة, رحلة, سفر | hi: विमान, यात्रा, हवाई | ja: 飛行機, 旅行, 旅
🏆 | | en: winner, award, champion, prize | fr: gagnant, gagner, champion, meilleur | es: ganador, ganar, premio, campeón | ar: فائز, جائزة, بطل | hi: विजेता, इनाम, पुरस्कार | ja: 優勝, 賞
❤️ | glow | en: love, loved, heart, hearts | fr: amour, aimer, cœur, coeur | es: amor, corazón | ar: حب, قلب | hi: प्यार, दिल, प्रेम | ja: 愛, ハート
🎨 | | en: art, paint, painting, colour, colours, color | fr: art, peinture, couleur, couleurs | es: arte, pintura, color, colores | ar: فن, رسم, لون, ألوان | hi: कला, रंग, चित्र | ja: 絵, アート
🔬 | | en: science, research, cell, cells, silicon, laboratory | fr: science, recherche, cellule, silicium, laboratoire | es: ciencia, investigación, célula, silicio | ar: علم, بحث, خلية | hi: विज्ञान, शोध | ja: 科学, 研究, 細胞
💨 | minor | en: smoke, wind, air, fuel | fr: fumée, vent, air, carburant | es: humo, viento, aire, combustible | ar: دخان, ريح, هواء, وقود | hi: धुआँ, हवा, ईंधन | ja: 煙, 風, 燃料
💧 | | en: water, droplet | fr: eau, goutte, gouttes, pur | es: agua, gota, gotas, puro | ar: ماء, قطرة, نقي | hi: पानी, बूंद, जल | ja: 水滴, お水
🎓 | | en: school, student, students, learn, learning, lesson | fr: école, élève, élèves, étudiant, apprendre | es: escuela, estudiante, aprender, clase | ar: مدرسة, طالب, تعلم, درس | hi: स्कूल, विद्यालय, छात्र, पढ़ाई | ja: 学校, 学生, 勉強
🏥 | | en: hospital, doctor, health, clinic | fr: hôpital, médecin, santé, clinique | es: hospital, médico, salud, clínica | ar: مستشفى, طبيب, صحة | hi: अस्पताल, डॉक्टर, स्वास्थ्य | ja: 病院, 医者, 健康
⚽ | lively | en: football, soccer, ball, sport, sports | fr: football, foot, ballon, sport | es: fútbol, balón, deporte, partido | ar: كرة, رياضة, مباراة | hi: फुटबॉल, खेल | ja: サッカー, スポーツ
📰 | | en: news, newspaper, journal, headline | fr: journal, nouvelle, nouvelles, actualité, actualités | es: noticia, noticias, periódico, diario | ar: أخبار, جريدة, خبر | hi: समाचार, खबर, ख़बर, अख़बार | ja: ニュース, 新聞
🔑 | minor | en: key, keys, visit, visits, tour | fr: clé, clés, visite, visites | es: llave, llaves, visita, visitas | ar: مفتاح, زيارة | hi: चाबी, दौरा | ja: 鍵, 見学
🪨 | | en: stone, stones, rock, rocks | fr: pierre, pierres, rocher | es: piedra, piedras, roca | ar: حجر, حجارة, صخر | hi: पत्थर, चट्टान | ja: 石, 岩
🌾 | | en: wheat, grain, harvest, field, fields, farm | fr: blé, récolte, champ, champs, ferme | es: trigo, cosecha, campo, granja | ar: قمح, حصاد, حقل, مزرعة | hi: गेहूँ, फसल, खेत | ja: 麦, 収穫, 畑
👑 | | en: king, queen, majesty, royal | fr: roi, reine, majesté, royal | es: rey, reina, majestad | ar: ملك, ملكة | hi: राजा, रानी, महाराज | ja: 王様, 女王
🎁 | | en: gift, gifts, offer, surprise | fr: cadeau, cadeaux, offre, surprise | es: regalo, regalos, oferta, sorpresa | ar: هدية, هدايا, عرض | hi: उपहार, तोहफा | ja: 贈り物, プレゼント
"""
"""One line per subject: ``emoji | tags | lang: keyword, keyword | lang: ...``."""

LANGUAGES = ("en", "fr", "es", "ar", "hi", "ja")
"""The languages every line of the table covers; CLDR adds the emoji's name in many more."""

TAGS = ("hot", "swarm", "sky", "lively", "glow", "minor")


@dataclass(frozen=True)
class Entry:
    """One line of ``TABLE``: a subject, its tags and its keywords per language as written."""

    emoji: str
    tags: frozenset[str]
    keywords: Mapping[str, tuple[str, ...]]  # language -> keywords, in the table's order


@functools.lru_cache(maxsize=1)
def entries() -> tuple[Entry, ...]:
    """``TABLE`` parsed, once per process: every reader of the lexicon starts here."""
    out: list[Entry] = []
    for line in TABLE.strip().splitlines():
        emoji, tags, *columns = (part.strip() for part in line.split("|"))
        keywords: dict[str, tuple[str, ...]] = {}
        for column in columns:
            language, _, words = column.partition(":")
            found = tuple(word.strip() for word in words.split(",") if word.strip())
            keywords[language.strip()] = keywords.get(language.strip(), ()) + found
        out.append(
            Entry(emoji, frozenset(t.strip() for t in tags.split(",") if t.strip()), keywords)
        )
    return tuple(out)
