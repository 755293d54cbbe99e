"""The assistant’s demonstration entries: the questions an administrator of a city like Liège
would write first (how to get verified, how voting works, proposing an idea) and the city's
own repetitive questions (waste collection, permits, opening hours), in the four languages.

Each entry has a `key` shared by its versions in other languages, used by the demonstration and
the tests' evaluation set (tests/assistant/eval_set.py). Most are written once per language, each
its own original; the paper idea box is written in French with translations into Dutch and
English (none into German: a German asker gets the French original, marked so)."""

from dataclasses import dataclass

from sqlmodel import Session

from app.account.models import User
from app.assistant.knowledge import EntryInput, save_entry, save_translation
from app.demo_context import DemoContext


@dataclass(frozen=True)
class DemoEntry:
    key: str
    language: str
    topic: str
    question: str
    phrasings: tuple[str, ...]
    answer: str
    # (language, question, phrasings, answer): translations of this original.
    translations: tuple[tuple[str, str, tuple[str, ...], str], ...] = ()


ENTRIES: tuple[DemoEntry, ...] = (
    # How to get verified --------------------------------------------------------------------
    DemoEntry("verify", "fr", "account", "Comment faire vérifier mon compte ?", (
        "Comment devenir résident vérifié ?", "Comment confirmer mon adresse e-mail ?",
        "Je n’ai pas reçu l’e-mail de confirmation", "Prouver que j’habite la ville",
        "Vérification de l’identité avec itsme"),
        "Confirmez d’abord votre adresse e-mail avec le lien reçu à l’inscription. Pour les appels réservés "
        "aux résidents, ouvrez **Mon compte** et vérifiez votre domicile avec le service de connexion de la ville "
        "(itsme ou la carte d’identité)."),
    DemoEntry("verify", "nl", "account", "Hoe laat ik mijn account verifiëren?", (
        "Hoe word ik geverifieerde inwoner?", "Hoe bevestig ik mijn e-mailadres?",
        "Ik heb de bevestigingsmail niet ontvangen", "Bewijzen dat ik in de stad woon"),
        "Bevestig eerst uw e-mailadres met de link die u bij de inschrijving kreeg. Voor oproepen die alleen "
        "voor inwoners zijn, opent u **Mijn account** en bevestigt u uw woonplaats met de aanmeldingsdienst van "
        "de stad (itsme of de identiteitskaart)."),
    DemoEntry("verify", "de", "account", "Wie lasse ich mein Konto verifizieren?", (
        "Wie werde ich verifizierter Einwohner?", "Wie bestätige ich meine E-Mail-Adresse?",
        "Ich habe die Bestätigungs-E-Mail nicht erhalten", "Nachweisen, dass ich in der Stadt wohne"),
        "Bestätigen Sie zuerst Ihre E-Mail-Adresse über den Link aus der Anmeldung. Für Aufrufe nur für "
        "Einwohner öffnen Sie **Mein Konto** und bestätigen Ihren Wohnsitz mit dem Anmeldedienst der Stadt."),
    DemoEntry("verify", "en", "account", "How do I get my account verified?", (
        "How do I become a verified resident?", "How do I confirm my e-mail address?",
        "I did not receive the confirmation e-mail", "Prove that I live in the city"),
        "First confirm your e-mail address with the link you received when you signed up. For calls open to "
        "residents only, open **My account** and verify where you live with the city’s sign-in service."),
    # How voting works -------------------------------------------------------------------------
    DemoEntry("voting", "fr", "voting", "Comment fonctionne le vote ?", (
        "Comment soutenir une idée ?", "Comment voter pour un projet ?", "Comment retirer mon soutien ?",
        "Puis-je changer mon vote ?", "Le vote est-il anonyme ?"),
        "Pendant la phase de vote, ouvrez une idée publiée et appuyez sur **Soutenir**. Chaque appel fixe un "
        "nombre de soutiens par personne ; vous pouvez retirer un soutien tant que le vote est ouvert. Personne "
        "ne voit qui a soutenu quoi."),
    DemoEntry("voting", "nl", "voting", "Hoe werkt het stemmen?", (
        "Hoe steun ik een idee?", "Hoe stem ik op een project?", "Kan ik mijn stem intrekken?",
        "Is de stemming anoniem?"),
        "Open tijdens de stemfase een gepubliceerd idee en druk op **Steunen**. Elke oproep bepaalt hoeveel "
        "steunbetuigingen iemand mag geven; u kunt een steun intrekken zolang de stemming open is."),
    DemoEntry("voting", "de", "voting", "Wie funktioniert die Abstimmung?", (
        "Wie unterstütze ich eine Idee?", "Wie stimme ich für ein Projekt?", "Kann ich meine Stimme zurückziehen?",
        "Ist die Abstimmung anonym?"),
        "Öffnen Sie während der Abstimmungsphase eine veröffentlichte Idee und drücken Sie auf **Unterstützen**. "
        "Jeder Aufruf legt fest, wie viele Unterstützungen eine Person hat; solange abgestimmt wird, können Sie "
        "eine Unterstützung zurückziehen."),
    DemoEntry("voting", "en", "voting", "How does voting work?", (
        "How do I support an idea?", "How do I vote for a project?", "Can I take back my vote?",
        "Is the vote anonymous?"),
        "During the voting phase, open a published idea and press **Support**. Each call sets how many supports "
        "a person has; you can withdraw a support while voting is open. Nobody sees who supported what."),
    # Proposing an idea --------------------------------------------------------------------------
    DemoEntry("propose", "fr", "ideas", "Comment proposer une idée ?", (
        "Comment déposer un projet ?", "Où soumettre ma proposition ?", "Puis-je ajouter une photo à mon idée ?",
        "Je n’ai pas internet, puis-je envoyer mon idée sur papier ?"),
        "Ouvrez un appel en phase de dépôt et choisissez **Proposer une idée** : un titre, une description, un "
        "thème, un quartier et une photo si vous voulez. Les idées sur papier sont acceptées à l’accueil de "
        "l’hôtel de ville."),
    DemoEntry("propose", "nl", "ideas", "Hoe dien ik een idee in?", (
        "Hoe stel ik een project voor?", "Waar kan ik mijn voorstel indienen?", "Kan ik een foto toevoegen?"),
        "Open een oproep in de indieningsfase en kies **Een idee voorstellen**: een titel, een beschrijving, een "
        "thema, een wijk en eventueel een foto."),
    DemoEntry("propose", "de", "ideas", "Wie reiche ich eine Idee ein?", (
        "Wie schlage ich ein Projekt vor?", "Wo kann ich meinen Vorschlag einreichen?",
        "Kann ich ein Foto hinzufügen?"),
        "Öffnen Sie einen Aufruf in der Einreichungsphase und wählen Sie **Eine Idee vorschlagen**: Titel, "
        "Beschreibung, Thema, Viertel und gegebenenfalls ein Foto."),
    DemoEntry("propose", "en", "ideas", "How do I propose an idea?", (
        "How do I submit a project?", "Where can I post my proposal?", "Can I add a photo to my idea?"),
        "Open a call that accepts ideas and choose **Propose an idea**: a title, a description, a theme, a "
        "district and a photo if you like."),
    # Waste collection ---------------------------------------------------------------------------
    DemoEntry("waste", "fr", "city", "Quand passe la collecte des déchets ?", (
        "Quel jour sortir les poubelles ?", "Quand passent les poubelles dans ma rue ?",
        "Calendrier de ramassage des sacs", "Où jeter les encombrants ?",
        "Collecte des PMC et du papier carton", "Horaire du parc à conteneurs", "recyparc"),
        "Le calendrier des collectes de votre rue est sur le site d’Intradel et dans l’application Recycle!. "
        "Sortez les sacs la veille après 18 h. Les encombrants vont au recyparc ou sont enlevés sur rendez-vous."),
    DemoEntry("waste", "nl", "city", "Wanneer wordt het afval opgehaald?", (
        "Welke dag moet de vuilnisbak buiten?", "Ophaalkalender van de afvalzakken", "Waar kan ik grofvuil kwijt?",
        "Ophaling van PMD en papier", "containerpark"),
        "De ophaalkalender van uw straat staat op de site van Intradel en in de app Recycle!. Zet de zakken de "
        "avond voordien na 18 uur buiten. Grofvuil gaat naar het containerpark."),
    DemoEntry("waste", "de", "city", "Wann wird der Müll abgeholt?", (
        "An welchem Tag muss die Mülltonne raus?", "Abfuhrkalender der Müllsäcke", "Wohin mit Sperrmüll?",
        "Abholung von Papier und Verpackungen", "Recyclinghof"),
        "Den Abfuhrkalender Ihrer Straße finden Sie auf der Seite von Intradel und in der App Recycle!. Stellen "
        "Sie die Säcke am Vorabend nach 18 Uhr hinaus. Sperrmüll gehört zum Recyclinghof."),
    DemoEntry("waste", "en", "city", "When is the rubbish collected?", (
        "Which day do I put the bins out?", "Waste collection calendar", "Where do I take bulky waste?",
        "Garbage pickup schedule", "recycling centre"),
        "Your street’s collection calendar is on Intradel’s site and in the Recycle! app. Put the bags out the "
        "evening before, after 6 pm. Bulky waste goes to the recycling centre."),
    # Building permits ---------------------------------------------------------------------------
    DemoEntry("permit", "fr", "city", "Comment obtenir un permis d’urbanisme ?", (
        "Faut-il un permis pour construire une véranda ?", "Demande de permis de bâtir",
        "Autorisation pour des travaux dans ma maison", "Permis pour une extension ou un abri de jardin"),
        "Les demandes de permis d’urbanisme se déposent au service de l’Urbanisme, sur rendez-vous. Certains "
        "petits travaux en sont dispensés : le service vous le dit avant que vous déposiez votre dossier."),
    DemoEntry("permit", "nl", "city", "Hoe krijg ik een bouwvergunning?", (
        "Heb ik een vergunning nodig voor een veranda?", "Aanvraag omgevingsvergunning",
        "Toelating voor verbouwingswerken aan mijn huis"),
        "Bouwvergunningen vraagt u aan bij de dienst Stedenbouw, op afspraak. Sommige kleine werken zijn "
        "vrijgesteld: de dienst zegt het u vooraf."),
    DemoEntry("permit", "de", "city", "Wie bekomme ich eine Baugenehmigung?", (
        "Brauche ich eine Genehmigung für einen Wintergarten?", "Antrag auf Baugenehmigung",
        "Erlaubnis für Umbauarbeiten an meinem Haus"),
        "Baugenehmigungen beantragen Sie beim Städtebauamt, nach Terminvereinbarung. Manche kleinen Arbeiten "
        "sind befreit: das Amt sagt es Ihnen vorher."),
    DemoEntry("permit", "en", "city", "How do I get a building permit?", (
        "Do I need a permit for a conservatory?", "Planning permission application",
        "Permission for building work on my house"),
        "Building permits are requested from the town planning department, by appointment. Some small works are "
        "exempt: the department tells you before you apply."),
    # Opening hours ------------------------------------------------------------------------------
    DemoEntry("hours", "fr", "city", "Quelles sont les heures d’ouverture de l’hôtel de ville ?", (
        "À quelle heure ouvre l’administration communale ?", "Horaires des guichets de la population",
        "La mairie est-elle ouverte le samedi ?", "Quand puis-je aller chercher ma carte d’identité ?"),
        "Les guichets de l’hôtel de ville sont ouverts du lundi au vendredi de 8 h 30 à 16 h, et le jeudi "
        "jusqu’à 18 h, sur rendez-vous pour les cartes d’identité et les passeports."),
    DemoEntry("hours", "nl", "city", "Wat zijn de openingsuren van het stadhuis?", (
        "Hoe laat gaat het gemeentehuis open?", "Openingstijden van de loketten bevolking",
        "Is het stadhuis open op zaterdag?"),
        "De loketten van het stadhuis zijn open van maandag tot vrijdag van 8.30 tot 16 uur, en op donderdag tot "
        "18 uur; identiteitskaarten en paspoorten op afspraak."),
    DemoEntry("hours", "de", "city", "Wann hat das Rathaus geöffnet?", (
        "Öffnungszeiten der Stadtverwaltung", "Wann sind die Schalter des Bürgerbüros offen?",
        "Ist das Rathaus am Samstag geöffnet?"),
        "Die Schalter des Rathauses sind montags bis freitags von 8.30 bis 16 Uhr geöffnet, donnerstags bis "
        "18 Uhr; Personalausweise und Reisepässe nach Terminvereinbarung."),
    DemoEntry("hours", "en", "city", "What are the town hall’s opening hours?", (
        "When does the city hall open?", "Opening times of the registry desks", "Is the town hall open on Saturday?"),
        "The town hall’s desks are open Monday to Friday from 8.30 am to 4 pm, and on Thursday until 6 pm; "
        "identity cards and passports by appointment."),
    # Deleting one's account, personal data ------------------------------------------------------
    DemoEntry("privacy", "fr", "account", "Comment supprimer mon compte ?", (
        "Que faites-vous de mes données personnelles ?", "Télécharger mes données", "Effacer mes informations",
        "Se désinscrire de la plateforme"),
        "Dans **Mon compte**, vous pouvez télécharger toutes vos données et supprimer votre compte. Vos idées "
        "restent publiées sans votre nom."),
    DemoEntry("privacy", "nl", "account", "Hoe verwijder ik mijn account?", (
        "Wat doet u met mijn persoonsgegevens?", "Mijn gegevens downloaden", "Mijn gegevens wissen"),
        "In **Mijn account** kunt u al uw gegevens downloaden en uw account verwijderen. Uw ideeën blijven "
        "gepubliceerd zonder uw naam."),
    DemoEntry("privacy", "de", "account", "Wie lösche ich mein Konto?", (
        "Was machen Sie mit meinen persönlichen Daten?", "Meine Daten herunterladen", "Meine Daten löschen"),
        "Unter **Mein Konto** können Sie alle Ihre Daten herunterladen und Ihr Konto löschen. Ihre Ideen bleiben "
        "ohne Ihren Namen veröffentlicht."),
    DemoEntry("privacy", "en", "account", "How do I delete my account?", (
        "What do you do with my personal data?", "Download my data", "Erase my information"),
        "In **My account** you can download all your data and delete your account. Your ideas stay published "
        "without your name."),
    # Notifications --------------------------------------------------------------------------------
    DemoEntry("notifications", "fr", "participation", "Comment arrêter de recevoir des e-mails ?", (
        "Trop de mails, comment me désabonner ?", "Choisir les notifications que je reçois",
        "Recevoir un résumé par jour au lieu de chaque message", "Suivre une idée"),
        "Dans **Préférences de notification**, choisissez pour chaque sorte de nouvelle : tout de suite, un "
        "résumé quotidien ou hebdomadaire, ou jamais. Chaque e-mail a aussi un lien de désabonnement."),
    DemoEntry("notifications", "nl", "participation", "Hoe stop ik de e-mails?", (
        "Te veel mails, hoe schrijf ik me uit?", "Kiezen welke meldingen ik krijg", "Een idee volgen"),
        "Kies in **Meldingsvoorkeuren** per soort bericht: meteen, een dagelijks of wekelijks overzicht, of nooit. "
        "Elke e-mail heeft ook een afmeldlink."),
    DemoEntry("notifications", "de", "participation", "Wie bekomme ich keine E-Mails mehr?", (
        "Zu viele Mails, wie melde ich mich ab?", "Benachrichtigungen auswählen", "Einer Idee folgen"),
        "Wählen Sie unter **Benachrichtigungen** für jede Art: sofort, eine tägliche oder wöchentliche "
        "Zusammenfassung, oder nie. Jede E-Mail hat auch einen Abmeldelink."),
    DemoEntry("notifications", "en", "participation", "How do I stop receiving e-mails?", (
        "Too many emails, how do I unsubscribe?", "Choose which notifications I get", "Follow an idea"),
        "In **Notification preferences**, choose for each kind of news: at once, a daily or weekly digest, or "
        "never. Every e-mail also has an unsubscribe link."),
    # What the platform is, what happens to ideas ---------------------------------------------------
    DemoEntry("platform", "fr", "participation", "À quoi sert cette plateforme ?", (
        "Que devient une idée après le vote ?", "Qui décide des projets réalisés ?", "C’est quoi Réinventons ?",
        "Le budget participatif, comment ça marche ?"),
        "La ville lance des appels à projets sur des thèmes. Les habitants proposent des idées et les "
        "soutiennent ; la ville étudie les plus soutenues, répond officiellement à chacune et publie les "
        "résultats."),
    DemoEntry("platform", "nl", "participation", "Waarvoor dient dit platform?", (
        "Wat gebeurt er met een idee na de stemming?", "Wie beslist welke projecten worden uitgevoerd?",
        "Hoe werkt het participatief budget?"),
        "De stad lanceert projectoproepen over thema’s. Inwoners stellen ideeën voor en steunen ze; de stad "
        "bestudeert de meest gesteunde, antwoordt officieel op elk idee en publiceert de uitslag."),
    DemoEntry("platform", "de", "participation", "Wozu dient diese Plattform?", (
        "Was passiert mit einer Idee nach der Abstimmung?", "Wer entscheidet, welche Projekte umgesetzt werden?",
        "Wie funktioniert der Bürgerhaushalt?"),
        "Die Stadt startet Projektaufrufe zu Themen. Einwohner schlagen Ideen vor und unterstützen sie; die Stadt "
        "prüft die meistunterstützten, antwortet offiziell auf jede Idee und veröffentlicht die Ergebnisse."),
    DemoEntry("platform", "en", "participation", "What is this platform for?", (
        "What happens to an idea after the vote?", "Who decides which projects are carried out?",
        "How does the participatory budget work?"),
        "The city launches calls for projects on themes. Residents propose ideas and support them; the city "
        "studies the most supported, answers each one officially and publishes the results."),
    # The paper idea box: one original in French, translated into Dutch and English -----------------
    DemoEntry("ideabox", "fr", "ideas", "Où trouver la boîte à idées papier ?", (
        "Boîte à idées dans ma maison de quartier", "Déposer une idée écrite à la main",
        "Formulaire papier pour une idée"),
        "Chaque maison de quartier a une **boîte à idées** avec des formulaires papier. Un modérateur "
        "encode les idées reçues sur la plateforme ; elles y sont marquées « reçue sur papier ».",
        translations=(
            ("nl", "Waar vind ik de papieren ideeënbus?", (
                "Ideeënbus in mijn buurthuis", "Een handgeschreven idee afgeven", "Papieren formulier voor een idee"),
             "Elk buurthuis heeft een **ideeënbus** met papieren formulieren. Een moderator voert de ontvangen "
             "ideeën in op het platform; ze zijn er gemarkeerd als « op papier ontvangen »."),
            ("en", "Where is the paper idea box?", (
                "Idea box in my neighbourhood house", "Hand in a handwritten idea", "Paper form for an idea"),
             "Every neighbourhood house has an **idea box** with paper forms. A moderator enters the ideas "
             "received on the platform, where they are marked “received on paper”."),
        )),
)


def seed_assistant(session: Session, context: DemoContext) -> None:
    """The demonstration’s entries, owned by its administrator."""
    seed(session, context.admin)


def seed(session: Session, owner: User) -> dict[tuple[str, str], int]:
    """Write the demonstration entries and their translations, owned by `owner`; returns their
    ids by (key, language), a translated entry's under each language it has text in."""
    ids: dict[tuple[str, str], int] = {}
    for demo in ENTRIES:
        entry = save_entry(session, actor=owner, data=EntryInput(
            question=demo.question, phrasings="\n".join(demo.phrasings), answer_md=demo.answer,
            language=demo.language, topic=demo.topic))
        assert entry.id is not None
        ids[demo.key, demo.language] = entry.id
        for lang, question, phrasings, answer in demo.translations:
            save_translation(session, actor=owner, entry=entry, language=lang, texts={
                "question": question, "phrasings": "\n".join(phrasings), "answer_md": answer})
            ids[demo.key, lang] = entry.id
    return ids
