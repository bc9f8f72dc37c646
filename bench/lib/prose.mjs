// Ordinary prompts in other languages, written for the guard bench: a support request, a
// product question and a writing task each, with no attack in them. Repeated to the size asked.
export const PROSE = {
  de: 'Hallo, ich habe gestern eine Bestellung aufgegeben und die Bestätigung per E-Mail bekommen, aber die Lieferadresse ist leider falsch. Können Sie mir bitte erklären, wie ich die Adresse noch ändern kann, bevor das Paket verschickt wird? Außerdem würde ich gern wissen, ob die Rechnung automatisch an meine Firma geht oder ob ich sie im Kundenkonto selbst herunterladen muss. Für unser Team-Meeting am Donnerstag brauche ich eine kurze Zusammenfassung des letzten Quartals: Umsatz, neue Kunden, die wichtigsten Probleme im Support und was wir im nächsten Quartal anders machen wollen. Schreib bitte drei Absätze in einem freundlichen, aber sachlichen Ton und vermeide Fachbegriffe, die das Vertriebsteam nicht kennt. ',
  es: 'Hola, estoy preparando un informe para la reunión del lunes y necesito ayuda para ordenar las ideas. El año pasado abrimos dos tiendas nuevas en Valencia y Sevilla, y las ventas crecieron un doce por ciento, pero los costes de transporte también subieron bastante. ¿Podrías redactar una introducción clara de dos párrafos que explique estos resultados sin exagerar? Además, tengo una duda sobre la factura que recibí ayer: el importe no coincide con el presupuesto que nos enviaron en marzo. ¿Cómo debería escribir un correo educado al proveedor para pedir una aclaración? Me gustaría que el tono fuera profesional y cercano a la vez, y que el mensaje no ocupe más de diez líneas. ',
  zh: '你好，我想请你帮我写一封给客户的邮件。上个月我们的系统升级以后，有几位客户反映登录速度变慢了，我们已经找到了原因并在周二修复。邮件需要说明问题发生的时间、影响的范围以及我们采取的措施，同时向客户表示歉意。语气要正式但不要太生硬，长度控制在三段以内。另外，请帮我把下面这段产品介绍翻译成英文：我们的新款保温杯采用双层不锈钢设计，可以保持饮品温度十二个小时，适合上班族和户外爱好者使用。最后，我还想了解一下如何在表格里按月份统计销售额，有没有简单的公式可以推荐？',
  ja: 'こんにちは。来週の社内勉強会で使う資料を作っています。テーマは新しい経費精算システムの使い方で、参加者は営業部と総務部の社員です。最初に、なぜシステムを変更したのかを短く説明し、そのあとで申請から承認までの流れを順番に紹介したいと思います。スライド五枚分くらいの構成案を考えてもらえますか。専門用語はなるべく使わず、わかりやすい言葉でお願いします。また、領収書の写真をアップロードするときによくある失敗と、その対処方法も最後にまとめてほしいです。',
  ru: 'Здравствуйте! Помогите, пожалуйста, составить письмо руководителю отдела о переносе сроков проекта. Мы планировали закончить первую версию приложения к концу месяца, но тестирование показало несколько серьёзных ошибок в модуле оплаты, и команде нужно ещё две недели. В письме важно спокойно объяснить причины задержки, перечислить, что уже сделано, и предложить новый план с конкретными датами. Тон должен быть деловым и уверенным, без лишних оправданий. Также подскажите, как лучше оформить таблицу с задачами, чтобы её было удобно обсуждать на совещании. ',
};
export const prose = (lang, bytes) => {
  let s = '';
  while (s.length < bytes) s += PROSE[lang];
  return s.slice(0, bytes);
};
