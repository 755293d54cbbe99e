"""Demonstration calls and ideas: Liège's districts, a call modelled on Réinventons Liège in
its voting phase, "Liège 2030 — quartiers à vivre" open for ideas, and a past call with results.
Registered in app.demo.seeders()."""

from datetime import timedelta

from sqlmodel import Session

from app.account.models import User
from app.call.models import Call, Category, District, VoteScope
from app.clock import utcnow
from app.demo_context import DemoContext
from app.idea.models import AnswerStatus, Idea, IdeaPhoto, IdeaStatus, IdeaStatusChange
from app.media import service as media_service
from app.media.demo_images import generate_demo_photo
from app.richtext import render_markdown

DISTRICTS = (
    "Angleur", "Avroy", "Bressoux", "Burenville", "Centre", "Chênée", "Cointe", "Droixhe", "Fétinne", "Glain",
    "Grivegnée", "Guillemins", "Jupille", "Laveu", "Longdoz", "Outremeuse", "Rocourt", "Sainte-Marguerite",
    "Sainte-Walburge", "Sclessin", "Thier-à-Liège", "Vennes", "Wandre",
)

REINVENTONS_THEMES = (
    ("revolution-numerique", "Révolution numérique", "Services en ligne, données ouvertes, inclusion numérique."),
    ("pratiques-collaboratives", "Pratiques collaboratives", "Partage, entraide, économie circulaire."),
    ("transition-energetique", "Transition énergétique", "Énergie, mobilité douce, climat."),
    ("participation-citoyenne", "Participation citoyenne", "Décider et agir ensemble pour la ville."),
    ("inclusion-sociale", "Inclusion sociale", "Une ville accueillante pour toutes et tous."),
)

# (theme index, district or None, title, body, status, photo?)
REINVENTONS_IDEAS = (
    (0, "Centre", "Wi-Fi public gratuit place Saint-Lambert",
     "Installer un accès **Wi-Fi gratuit** et sécurisé sur la place Saint-Lambert et autour de la gare "
     "Léopold, pour les touristes, les étudiants et toutes les personnes sans forfait mobile.", "published", True),
    (0, None, "Une application pour signaler les nids-de-poule",
     "Une application simple (et un site) pour signaler en deux clics un trottoir abîmé, un éclairage en panne "
     "ou un dépôt clandestin, avec une photo et le suivi de la réparation.", "published", False),
    (0, "Outremeuse", "Des ateliers numériques à la bibliothèque",
     "Des ateliers gratuits chaque semaine pour apprendre à utiliser un smartphone, faire ses démarches en ligne "
     "et se protéger des arnaques. Animés par des bénévoles et des étudiants.", "published", True),
    (0, None, "Ouvrir les données de la Ville",
     "Publier en données ouvertes les horaires, les budgets, les chantiers et les places de parking, dans des "
     "formats réutilisables, pour que chacun puisse créer des services utiles.", "published", False),
    (0, "Sclessin", "Un espace public numérique à Sclessin",
     "Un lieu équipé d'ordinateurs et d'une imprimante, avec une personne pour aider aux démarches "
     "administratives en ligne.", "published", False),
    (0, None, "Paiement du stationnement par SMS partout",
     "Généraliser le paiement du stationnement par SMS ou par application dans tous "
     "les quartiers.", "submitted", False),
    (0, "Guillemins", "Écrans d'information en temps réel aux arrêts de bus",
     "Afficher l'heure réelle de passage des bus aux arrêts les plus fréquentés, avec une annonce sonore pour "
     "les personnes malvoyantes.", "published", False),
    (1, "Longdoz", "Une grainothèque dans chaque quartier",
     "Des boîtes où déposer et prendre librement des graines de légumes et de fleurs, installées dans les "
     "bibliothèques et les maisons de quartier.", "published", True),
    (1, "Bressoux", "Repair café mensuel à Bressoux",
     "Un samedi par mois, des bénévoles réparent avec vous grille-pain, vélos et vêtements plutôt que de les "
     "jeter. La Ville prête une salle et l'assurance.", "published", False),
    (1, None, "Une plateforme de prêt d'outils entre voisins",
     "Pourquoi acheter une perceuse utilisée dix minutes par an ? Une plateforme et des points de dépôt pour "
     "prêter et emprunter des outils entre habitants.", "published", False),
    (1, "Sainte-Marguerite", "Potagers partagés sur les terrains en friche",
     "Transformer temporairement les terrains communaux inoccupés en potagers collectifs, avec des bacs et un "
     "point d'eau.", "published", True),
    (1, "Jupille", "Frigo solidaire devant la maison de quartier",
     "Un frigo où commerçants et habitants déposent les invendus et les surplus, "
     "accessibles à tous.", "published", False),
    (1, None, "Des boîtes à livres dans les parcs",
     "Installer des boîtes à livres en bois dans les parcs de la Boverie, d'Avroy et "
     "de la Chartreuse.", "draft", False),
    (1, "Centre", "Un marché de producteurs le soir",
     "Un marché hebdomadaire en fin de journée pour que les personnes qui travaillent puissent acheter "
     "local.", "published", False),
    (2, None, "Des pistes cyclables séparées sur les quais",
     "Des pistes cyclables **séparées de la circulation** tout le long de la Meuse, de Droixhe au Val-Benoît, "
     "avec des parkings vélos sécurisés aux ponts.", "published", True),
    (2, "Guillemins", "Panneaux solaires sur les toits des écoles",
     "Équiper les toits des écoles communales de panneaux photovoltaïques et en faire un projet pédagogique "
     "avec les élèves.", "published", False),
    (2, "Chênée", "Une navette fluviale Chênée – Centre",
     "Une navette électrique sur l'Ourthe et la Meuse aux heures de pointe, pour "
     "éviter les bouchons.", "published", False),
    (2, None, "Des primes pour isoler les logements anciens",
     "Un guichet unique pour conseiller et financer l'isolation des maisons liégeoises, en priorité pour les "
     "ménages modestes.", "published", False),
    (2, "Cointe", "Des bornes de recharge pour vélos électriques",
     "Les côtes de Cointe et de Sainte-Walburge découragent le vélo : des bornes de recharge et des vélos "
     "partagés électriques aideraient beaucoup.", "published", False),
    (2, "Droixhe", "Une communauté d'énergie renouvelable",
     "Permettre aux habitants d'un quartier de produire et partager leur électricité solaire.", "rejected", False),
    (2, None, "Éteindre les vitrines la nuit",
     "Faire respecter l'extinction des enseignes et vitrines entre 1 h et 6 h pour "
     "économiser l'énergie.", "published", False),
    (3, None, "Un budget participatif chaque année",
     "Réserver une part du budget communal à des projets proposés et votés par les habitants, quartier par "
     "quartier.", "published", False),
    (3, "Outremeuse", "Des conseils de quartier ouverts",
     "Des réunions publiques trimestrielles dans chaque quartier, avec les échevins, à des heures "
     "accessibles.", "published", True),
    (3, None, "Retransmettre le conseil communal en direct",
     "Diffuser en direct et en replay les séances du conseil communal, sous-titrées.", "published", False),
    (3, "Sainte-Walburge", "Une boîte à idées dans chaque maison de quartier",
     "Pour celles et ceux qui ne sont pas en ligne : une boîte à idées papier relevée "
     "chaque mois.", "published", False),
    (3, None, "Un conseil communal des jeunes",
     "Donner la parole aux 12-18 ans avec un conseil élu qui dispose d'un petit budget.", "submitted", False),
    (3, "Rocourt", "Consulter les habitants avant les grands chantiers",
     "Présenter les projets de chantier aux riverains avant le permis, avec un vrai "
     "temps de réponse.", "changes_requested", False),
    (4, None, "Des toilettes publiques gratuites et accessibles",
     "Plus de toilettes publiques propres, gratuites et accessibles aux personnes en fauteuil, indiquées sur "
     "un plan.", "published", True),
    (4, "Centre", "Un accueil de jour pour les personnes sans abri",
     "Un lieu ouvert la journée pour se reposer, se laver, laver son linge et rencontrer des travailleurs "
     "sociaux.", "published", False),
    (4, "Glain", "Des cours de français gratuits en soirée",
     "Des cours de français langue étrangère le soir et le samedi, avec une garderie "
     "pour les enfants.", "published", False),
    (4, None, "Des trottoirs sans obstacles",
     "Supprimer les obstacles (poteaux, terrasses, voitures) qui empêchent les poussettes et les fauteuils de "
     "passer.", "published", False),
    (4, "Wandre", "Un minibus pour les personnes âgées",
     "Un minibus à la demande pour emmener les aînés de Wandre au marché et chez le médecin.", "published", False),
    (4, "Grivegnée", "Une épicerie sociale à Grivegnée",
     "Une épicerie où les familles en difficulté achètent à prix réduit, avec un accompagnement.", "published", False),
    (4, None, "Interdire les mendiants du centre-ville",
     "Texte refusé par la modération.", "rejected", False),
    (0, None, "Un portail unique pour toutes les démarches",
     "Un seul site et un seul compte pour toutes les démarches communales : état civil, urbanisme, "
     "stationnement.", "withdrawn", False),
    (2, "Angleur", "Un parking relais à Angleur",
     "Un parking relais gratuit relié au centre par un bus fréquent, pour les navetteurs venant de "
     "l'Ourthe.", "draft", False),
)

QUARTIERS_THEMES = (
    ("espaces-verts", "Espaces verts", ""),
    ("mobilite", "Mobilité", ""),
    ("vivre-ensemble", "Vivre ensemble", ""),
)
QUARTIERS_IDEAS = (
    (0, "Laveu", "Un parc de poche rue du Laveu",
     "Transformer le terrain vague au coin de la rue en petit parc avec bancs et arbres fruitiers.", "published", True),
    (1, "Vennes", "Une rue scolaire devant l'école des Vennes",
     "Fermer la rue à la circulation aux heures d'entrée et de sortie des classes.", "published", False),
    (2, "Thier-à-Liège", "Une fête des voisins soutenue par la Ville",
     "Prêter tables, chaises et barrières aux habitants qui organisent une fête de rue.", "submitted", False),
    (0, "Fétinne", "Planter des arbres le long du quai de Fétinne", "Ombre, fraîcheur et oiseaux.", "draft", False),
)

RESULT_IDEAS = (
    ("Rénover l'aire de jeux du parc d'Avroy", "Avroy", AnswerStatus.implemented,
     "Les nouveaux jeux ont été installés au printemps, avec un revêtement adapté aux fauteuils."),
    ("Des bancs sur la place du Marché", "Centre", AnswerStatus.accepted,
     "Douze bancs seront installés d'ici la fin de l'année."),
    ("Une fontaine d'eau potable à Burenville", "Burenville", AnswerStatus.partly_accepted,
     "Une fontaine sera installée près de l'école ; la seconde demande une étude du réseau."),
    ("Un skatepark à Sclessin", "Sclessin", AnswerStatus.under_study,
     "Le service des sports étudie deux emplacements possibles."),
    ("Couvrir la Meuse d'un parc flottant", None, AnswerStatus.rejected,
     "Le coût et les contraintes de navigation ne permettent pas ce projet."),
)


def _call(session: Session, context: DemoContext, seed: int, **fields: object) -> Call:
    call = Call(**fields)  # type: ignore[arg-type]
    call.description_html = render_markdown(call.description_md)
    cover = media_service.store_image(session, context.settings, owner_id=context.admin.id,
                                      data=generate_demo_photo(seed, size=(1200, 630)))
    call.cover_id = cover.id
    session.add(call)
    session.flush()
    return call


def _themes(session: Session, call: Call, themes: tuple[tuple[str, str, str], ...]) -> list[Category]:
    assert call.id is not None
    result = []
    for position, (slug, name, description) in enumerate(themes):
        category = Category(call_id=call.id, slug=slug, name=name, description=description, position=position)
        session.add(category)
        result.append(category)
    session.flush()
    return result


def _idea(session: Session, context: DemoContext, call: Call, author: User, *, title: str, body: str, status: str,
          category: Category | None, district: District | None, age_days: float, photo_seed: int | None) -> Idea:
    assert call.id is not None and author.id is not None
    created = utcnow() - timedelta(days=age_days)
    public = status in (IdeaStatus.published, IdeaStatus.merged)
    idea = Idea(call_id=call.id, author_id=author.id, title=title, body_md=body, body_html=render_markdown(body),
                status=status, category_id=category.id if category else None,
                district_id=district.id if district else None, created_at=created, updated_at=created,
                submitted_at=None if status == IdeaStatus.draft else created,
                published_at=created + timedelta(hours=2) if public else None)
    session.add(idea)
    session.flush()
    assert idea.id is not None
    session.add(IdeaStatusChange(idea_id=idea.id, actor_id=author.id, to_status=IdeaStatus.draft, created_at=created))
    steps: list[tuple[str, User, str]] = []
    if status != IdeaStatus.draft:
        first = IdeaStatus.submitted if call.premoderation or status in (
            IdeaStatus.submitted, IdeaStatus.rejected, IdeaStatus.changes_requested) else IdeaStatus.published
        steps.append((first, author, ""))
    if status == IdeaStatus.published and call.premoderation:
        steps.append((IdeaStatus.published, context.moderator, ""))
    if status == IdeaStatus.rejected:
        steps.append((IdeaStatus.rejected, context.moderator,
                      "Cette proposition ne respecte pas la charte de participation."))
    if status == IdeaStatus.changes_requested:
        steps.append((IdeaStatus.changes_requested, context.moderator,
                      "Pouvez-vous préciser quels chantiers sont concernés ?"))
    if status == IdeaStatus.withdrawn:
        steps.append((IdeaStatus.withdrawn, author, ""))
    previous: str = IdeaStatus.draft
    for offset, (to_status, actor, note) in enumerate(steps, start=1):
        session.add(IdeaStatusChange(idea_id=idea.id, actor_id=actor.id, from_status=previous, to_status=to_status,
                                     note=note, created_at=created + timedelta(hours=offset)))
        previous = to_status
    if photo_seed is not None:
        media = media_service.store_image(session, context.settings, owner_id=author.id,
                                          data=generate_demo_photo(photo_seed, size=(960, 640)))
        assert media.id is not None
        session.add(IdeaPhoto(idea_id=idea.id, media_id=media.id, alt_text=f"Illustration : {title}"))
    return idea


def seed_calls_and_ideas(session: Session, context: DemoContext) -> None:
    now = utcnow()
    day = timedelta(days=1)
    districts: dict[str, District] = {}
    for position, name in enumerate(DISTRICTS):
        slug = name.lower().replace("è", "e").replace("ê", "e").replace("é", "e").replace("à", "a").replace(" ", "-")
        districts[name] = District(slug=slug, name=name, position=position)
        session.add(districts[name])
    session.flush()
    people = context.citizens or [context.citizen]

    reinventons = _call(
        session, context, 7, slug="reinventons-liege", title="Réinventons Liège",
        summary="Vos idées pour une ville plus numérique, collaborative, durable, participative et inclusive.",
        description_md=(
            "En 2017, les Liégeoises et les Liégeois ont proposé **983 idées en 75 jours**. La Ville en a retenu "
            "77 actions prioritaires. Cette nouvelle édition reprend les cinq thèmes :\n\n"
            "- la révolution numérique ;\n- les pratiques collaboratives ;\n- la transition énergétique ;\n"
            "- la participation citoyenne ;\n- l'inclusion sociale.\n\n"
            "Soutenez les idées qui vous plaisent : chaque idée recevra une réponse de la Ville."),
        submissions_start=now - 60 * day, voting_start=now - 5 * day, review_start=now + 20 * day,
        results_start=now + 45 * day, closes_at=now + 120 * day, ideas_per_citizen=5, votes_per_citizen=10,
        vote_scope=VoteScope.call, comments_during_voting=True,
    )
    themes = _themes(session, reinventons, REINVENTONS_THEMES)
    photo_seed = 100
    for index, (theme, place, title, body, status, photo) in enumerate(REINVENTONS_IDEAS):
        author = context.citizen if status in ("draft", "changes_requested") else people[index % len(people)]
        _idea(session, context, reinventons, author, title=title, body=body, status=status, category=themes[theme],
              district=districts[place] if place else None, age_days=55 - index * 1.4,
              photo_seed=photo_seed + index if photo else None)

    quartiers = _call(
        session, context, 11, slug="liege-2030-quartiers", title="Liège 2030 — quartiers à vivre",
        summary="Proposez des actions concrètes pour votre quartier : espaces verts, mobilité, vivre ensemble.",
        description_md=("Liège 2030 proposait 122 actions sur 12 thèmes. Place aux quartiers : que "
                        "changeriez-vous près de chez vous ? Les idées sont vérifiées par la modération avant "
                        "publication. Vous pourrez ensuite choisir **3 idées par thème**."),
        submissions_start=now - 10 * day, voting_start=now + 30 * day, review_start=now + 60 * day,
        results_start=now + 90 * day, closes_at=now + 150 * day, premoderation=True, ideas_per_citizen=3,
        votes_per_citizen=3, vote_scope=VoteScope.category,
    )
    themes2 = _themes(session, quartiers, QUARTIERS_THEMES)
    for index, (theme, place, title, body, status, photo) in enumerate(QUARTIERS_IDEAS):
        author = context.citizen if status == "draft" else people[(index + 3) % len(people)]
        _idea(session, context, quartiers, author, title=title, body=body, status=status, category=themes2[theme],
              district=districts[place] if place else None, age_days=9 - index,
              photo_seed=300 + index if photo else None)

    budget = _call(
        session, context, 23, slug="budget-participatif-2025", title="Budget participatif 2025 — places et parcs",
        summary="Les projets retenus pour nos places et nos parcs, et les réponses de la Ville.",
        description_md="Merci pour vos 214 propositions ! Voici les réponses de la Ville aux idées les plus soutenues.",
        submissions_start=now - 400 * day, voting_start=now - 330 * day, review_start=now - 300 * day,
        results_start=now - 240 * day, closes_at=now + 60 * day, ideas_per_citizen=3,
    )
    (park,) = _themes(session, budget, (("places-et-parcs", "Places et parcs", ""),))
    for index, (title, place, answer, text) in enumerate(RESULT_IDEAS):
        idea = _idea(session, context, budget, people[(index + 5) % len(people)], title=title,
                     body=f"{title}. Une proposition des habitants pour rendre l'espace public plus agréable.",
                     status=IdeaStatus.published, category=park, district=districts[place] if place else None,
                     age_days=390 - index, photo_seed=None)
        idea.answer_status = answer
        idea.answer_html = render_markdown(text)
        idea.answered_at = now - 250 * day
        idea.answered_by_id = context.moderator.id
        idea.winner = answer in (AnswerStatus.implemented, AnswerStatus.accepted)
        idea.shortlisted = answer != AnswerStatus.rejected
        session.add(idea)
    session.flush()
    context.extra["calls"] = {"reinventons": reinventons, "quartiers": quartiers, "budget": budget}
